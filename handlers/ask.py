"""`/ask 问题`: the best archived answer, else related discussions, else a clear "nothing found".

Both /ask and the auto-answerer go through `consult` (an admin's pin for the question first, then
the engine's verdict after what the chat taught it, bot/learning.py) and log what they post with
`log_answer` (bot/store/answers.py), so reactions and replies to it count as feedback.
"""

from __future__ import annotations

import functools

from bot.chat import Sent
from bot.context import Context
from bot.router import Router

router = Router("ask", order=30)
USAGE = "用法：/ask 问题（例如 /ask 财付通为什么算发卡行）"
REPEATED = "这个问题刚刚回答过，请看上面的回复。"


def answer_reply(ctx: Context, match, markdown: bool = False) -> str:
    """The answer text for an archived exchange; kept per exchange and mode (the same answers are
    given again and again, in many chats) in a small per-process cache (Services.answer_texts)."""
    from bot.qa.reply import answer_text

    pair = match.pair
    # The unit's id names its kind and piece: two pieces of one talk share their lines but not their text.
    key = (pair.unit_id, pair.question_seqs, pair.answer_seqs, markdown)
    cache = ctx.services.answer_texts
    text = cache.get(key)
    if text is None:
        if len(cache) >= 512:
            cache.clear()
        text = cache[key] = answer_text(match, ctx.services.config.bot.public_base_url, markdown)
    return text


async def consult(ctx: Context, question: str, *, prompted: bool):
    """(pinned answer text or None, the engine's verdict after the chat's lessons)."""
    from bot import learning
    from bot.pinned import pinned_text

    services = ctx.services
    taught = await ctx.db(learning.lessons, services.db, ctx.chat.platform, ctx.chat.chat_id)
    pin = learning.pinned(question, taught, services.config.feedback)
    if pin is not None:
        await services.erasures.catch_up_async(services)  # the pinned unit as it is now, erasures included
        text = await ctx.db(pinned_text, services, pin.unit)
        if text is not None:
            return (pin.unit, text), None
    result = await ctx.engine("ask", question, ctx.answer_groups)
    engine = services.answers  # its thresholds: configured, else fitted with the ranker
    return None, learning.apply(result, question, taught, services.config.feedback, engine.answer_threshold,
                                engine.suggest_threshold, prompted=prompted)


async def log_answer(ctx: Context, sent: Sent | None, *, kind: str, question: str, unit: str, score: float,
                     prompted: bool) -> None:
    """Record a posted answer or suggestion with the bot's own message ids (nothing if not sent)."""
    from bot.store import answers

    if sent is None:
        return
    message = ctx.message
    await ctx.write(functools.partial(
        answers.record_in, platform=ctx.chat.platform, chat_id=ctx.chat.chat_id, group=ctx.group, kind=kind,
        prompted=prompted, question_message_id=message.message_id if message else None,
        asker_id=message.sender.id if message else None, question=question, unit=unit, score=score,
        ts=int(ctx.now_ts()), message_ids=sent.message_ids))


@router.command("ask", "问")
async def ask(ctx: Context) -> None:
    """问题 — 在以前的讨论里找答案（找不到时列出相关讨论）"""
    from bot.qa.reply import nothing_found_text, related_text

    question = await ctx.words_for_engine(USAGE)
    if question is None:
        return
    if not await ctx.first_time(question):
        await ctx.reply(REPEATED)
        return
    from bot.learning import unit_key

    pin, result = await consult(ctx, question, prompted=True)
    base_url = ctx.services.config.bot.public_base_url
    markdown = ctx.markdown
    if pin is not None:
        sent = await ctx.reply(pin[1])
        await log_answer(ctx, sent, kind="answer", question=question, unit=pin[0], score=1.0, prompted=True)
    elif result.answered and result.match is not None:
        await ctx.remember_answer(result.match.pair)
        sent = await ctx.reply(answer_reply(ctx, result.match, markdown), markdown=markdown)
        await log_answer(ctx, sent, kind="answer", question=question, unit=unit_key(result.match.pair),
                         score=result.match.score, prompted=True)
    elif result.suggest and result.related:
        sent = await ctx.reply(related_text(result, base_url, markdown), markdown=markdown)
        await log_answer(ctx, sent, kind="suggestion", question=question, unit=unit_key(result.related[0].pair),
                         score=result.related[0].score, prompted=True)
    else:
        await ctx.reply(nothing_found_text())
