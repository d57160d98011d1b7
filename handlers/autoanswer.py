"""The fallback route: questions in ordinary group messages that were answered before.

Per chat (`chats[].auto_answer`): "on" answers above `answer.answer_threshold`; "suggest" only
offers related discussions (above `suggest_threshold`); "off" stays silent. Nothing is said until
the index is loaded, nothing twice within `answer.cooldown_seconds` (the same question, or the
same archived exchange reached by a paraphrase), and never to a bot. Unprompted answers go only to
questions that stand alone: not to a reply or an @-question aimed at a member (that member
should answer), nor to follow-ups that lean on the conversation ("你说的是透支是吧？"); and only
with an archived exchange whose own question stands alone too (not a quote, a follow-up or a
talk's long introduction). `/ask` keeps the engine's plain verdict: there the member asked.
A question older than `answer.deadline_seconds` (a burst of questions, a restart's backlog) is not
answered: it is not looked up when it is that old already, and an answer ready only after that is
not posted; the conversation has moved on (outcome "late"). Commands and questions addressed to
the bot are answered however late.
"""

from __future__ import annotations

import logging
import re

from bot import metrics
from bot.chat import Incoming
from bot.context import Context
from bot.qa.mining import LEANS_ON_CONTEXT, asks
from bot.router import Router
from handlers.ask import answer_reply, consult, log_answer

router = Router("autoanswer", order=1000)  # the fallback: after every other module
log = logging.getLogger(__name__)

def stands_alone(message: Incoming) -> bool:
    """Would the question make sense to someone who missed the conversation around it?"""
    if message.addressed:  # asked of the bot itself
        return True
    if message.reply_to is not None or any(not member.is_bot for member in message.mentions):
        return False
    return not LEANS_ON_CONTEXT.search(message.text)


def archived_question_stands_alone(pair) -> bool:
    """The same test for the archived question the answer would quote (bot.qa.mining)."""
    return pair.stands_alone


def _pair_key(pair) -> str:
    return f"pair:{pair.group}:{pair.date.isoformat()}:{pair.first.time.isoformat()}"


@router.fallback()
async def auto_answer(ctx: Context) -> None:
    """Answers questions in the group that were asked and answered before"""
    mode = ctx.chat.auto_answer
    engine = ctx.services.answers
    message = ctx.message
    if mode == "off" or engine is None or message is None:
        return
    text = message.text.strip()
    if not asks(text) or not stands_alone(message):
        return
    if _late(ctx):  # already too old (a burst's queue, a restart's backlog): not even looked up
        metrics.ANSWERS.labels("late").inc()
        return
    pin, result = await consult(ctx, text, prompted=message.addressed)
    if pin is not None:
        outcome = "silent"
        if _late(ctx):
            outcome = "late"
        elif await ctx.first_time(text):
            sent = await ctx.reply(pin[1], mentions=(message.sender,))
            await log_answer(ctx, sent, kind="answer", question=text, unit=pin[0], score=1.0,
                             prompted=message.addressed)
            outcome = "given"
    else:
        outcome = await _answer(ctx, message, text, result, mode)
    metrics.ANSWERS.labels(outcome).inc()


async def _answer(ctx: Context, message: Incoming, text: str, result, mode: str) -> str:
    """Reply if the verdict and the gates allow it; returns the outcome: given, suggested or silent."""
    from bot.learning import unit_key
    from bot.qa.reply import related_text

    base_url = ctx.services.config.bot.public_base_url
    markdown = ctx.markdown
    if mode == "on" and result.answered and result.match is not None:
        if not (message.addressed or archived_question_stands_alone(result.match.pair)):
            return "silent"
        if _late(ctx):
            return "late"
        if not (await ctx.first_time(text) and await ctx.first_time(_pair_key(result.match.pair))):
            return "silent"
        await ctx.remember_answer(result.match.pair)
        sent = await ctx.reply(answer_reply(ctx, result.match, markdown), mentions=(message.sender,),
                               markdown=markdown)
        await log_answer(ctx, sent, kind="answer", question=text, unit=unit_key(result.match.pair),
                         score=result.match.score, prompted=message.addressed)
        return "given"
    if mode == "suggest" and (result.answered or result.suggest) and result.candidates:
        if _late(ctx):
            return "late"
        if not (await ctx.first_time(text) and await ctx.first_time(_pair_key(result.candidates[0].pair))):
            return "silent"
        await ctx.remember_answer(result.candidates[0].pair)
        sent = await ctx.reply(related_text(list(result.candidates), base_url, markdown), mentions=(message.sender,),
                               markdown=markdown)
        await log_answer(ctx, sent, kind="suggestion", question=text, unit=unit_key(result.candidates[0].pair),
                         score=result.candidates[0].score, prompted=message.addressed)
        return "suggested"
    return "silent"


def _late(ctx: Context) -> bool:
    """Checked before the lookup (a late question costs no engine time, so a backlog drains
    sooner) and once the answer is known, before the cool-down or reply budget is spent on it (the
    same question asked again later may still be answered). A question addressed to the bot (an
    @-mention, a reply to it, its private chat) is never late: the member waits for that answer."""
    if ctx.message.addressed or not ctx.too_late():
        return False
    message = ctx.message
    log.info("unprompted answer to %s:%s message %s not posted: question %.1fs old (deadline %gs)",
             message.platform, message.chat_id, message.message_id, ctx.age(), ctx.config.answer.deadline_seconds)
    return True
