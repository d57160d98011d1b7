"""Feedback on the bot's answers: reactions, short replies that say "wrong" or "right", /wrong, /right.

Each is stored against the answer it refers to (bot/store/answers.py), once per member: a later
verdict replaces the member's earlier one, and a removed reaction takes its verdict back.
Reactions and replies are taken silently (the group is talking, not to the bot); the commands get
a short acknowledgement. bot/learning.py turns the verdicts into what the bot answers next.
"""

from __future__ import annotations

from bot.config import FeedbackSection
from bot.context import Context
from bot.router import Router
from bot.store import answers

router = Router("feedback", order=70)

THANKS = "收到，谢谢反馈。"
NO_ANSWER = "请回复机器人的某条回答来使用这个命令。"


def summary(counts: answers.Counts) -> str:
    """One line for /stats and the digest: answers given and the feedback they got; "" if none."""
    if not counts.answers and not counts.suggestions:
        return ""
    line = f"机器人回答了 {counts.answers} 个问题"
    if counts.suggestions:
        line += f"，推荐了 {counts.suggestions} 次相关讨论"
    return line + f"；收到反馈：有用 {counts.right}，不对 {counts.wrong}。"


def reaction_verdict(emoji: tuple[str, ...], config: FeedbackSection) -> int:
    """WRONG if any emoji says wrong, RIGHT if any says right, else 0 (wrong wins: it costs more)."""
    if any(e in config.wrong_reactions for e in emoji):
        return answers.WRONG
    if any(e in config.right_reactions for e in emoji):
        return answers.RIGHT
    return 0


def reply_verdict(text: str, config: FeedbackSection) -> int:
    """A short reply that says the answer is wrong (checked first: "不对" contains "对") or right."""
    folded = text.strip().casefold()
    if not folded or len(folded) > config.max_reply_chars:
        return 0
    if any(word.casefold() in folded for word in config.wrong_words):
        return answers.WRONG
    if any(word.casefold() in folded for word in config.right_words):
        return answers.RIGHT
    return 0


@router.on_reaction()
async def on_reaction(ctx: Context) -> None:
    """A member's reaction on one of the bot's answers"""
    reaction = ctx.reaction
    config = ctx.config.feedback
    added, removed = reaction_verdict(reaction.added, config), reaction_verdict(reaction.removed, config)
    if not added and not removed:
        return
    db = ctx.services.db
    found = await ctx.db(answers.find, db, ctx.chat.platform, ctx.chat.chat_id, reaction.message_id)
    if found is None:
        return
    if added:
        await ctx.db(answers.give, db, found.id, reaction.member.id, added, "reaction", int(reaction.time.timestamp()))
    else:
        await ctx.db(answers.withdraw, db, found.id, reaction.member.id, "reaction")


@router.observe()
async def on_reply(ctx: Context) -> None:
    """A short reply to the bot's answer that says it is wrong or right"""
    message = ctx.message
    if message.reply_to is None or message.command or message.text.lstrip().startswith("/"):
        return
    verdict = reply_verdict(message.text, ctx.config.feedback)
    if not verdict:
        return
    db = ctx.services.db
    found = await ctx.db(answers.find, db, ctx.chat.platform, ctx.chat.chat_id, message.reply_to)
    if found is not None:
        await ctx.db(answers.give, db, found.id, message.sender.id, verdict, "reply", int(message.time.timestamp()))


async def _command(ctx: Context, verdict: int) -> None:
    message = ctx.message
    db = ctx.services.db
    platform, chat_id = ctx.chat.platform, ctx.chat.chat_id
    if message.reply_to is not None:
        found = await ctx.db(answers.find, db, platform, chat_id, message.reply_to)
    else:
        found = await ctx.db(answers.latest, db, platform, chat_id)
    if found is None:
        await ctx.reply(NO_ANSWER)
        return
    await ctx.db(answers.give, db, found.id, message.sender.id, verdict, "command", int(message.time.timestamp()))
    await ctx.reply(THANKS)


@router.command("wrong", "不对")
async def wrong(ctx: Context) -> None:
    """— 回复机器人的回答：这个回答不对（以后不再用它回答同样的问题）"""
    await _command(ctx, answers.WRONG)


@router.command("right", "对")
async def right(ctx: Context) -> None:
    """— 回复机器人的回答：这个回答是对的"""
    await _command(ctx, answers.RIGHT)
