"""The fallback route: questions in ordinary group messages that were answered before.

Per chat (`chats[].auto_answer`): "on" answers above `answer.answer_threshold`; "suggest" only
offers related discussions (above `suggest_threshold`); "off" stays silent. Nothing is said until
the index is loaded, nothing twice within `answer.cooldown_seconds` (the same question, or the
same archived exchange reached by a paraphrase), and never to a bot.
"""

from __future__ import annotations

from bot.dispatch import Context
from bot.router import Router
from handlers.ask import answer_reply

router = Router("autoanswer")


def _pair_key(pair) -> str:
    return f"pair:{pair.group}:{pair.date.isoformat()}:{pair.first.time.isoformat()}"


@router.fallback()
async def auto_answer(ctx: Context) -> None:
    """Answers questions in the group that were asked and answered before"""
    from bot.qa.mining import asks
    from bot.qa.reply import related_text

    mode = ctx.chat.auto_answer
    engine = ctx.services.answers
    message = ctx.message
    if mode == "off" or engine is None or message is None:
        return
    text = message.text.strip()
    if not asks(text):
        return
    result = await ctx.engine("ask", text, ctx.group)
    base_url = ctx.services.config.bot.public_base_url
    markdown = ctx.markdown
    if mode == "on" and result.answered and result.match is not None:
        if not (ctx.first_time(text) and ctx.first_time(_pair_key(result.match.pair))):
            return
        ctx.chat_state()["last_pair"] = result.match.pair
        await ctx.reply(answer_reply(ctx, result.match, markdown), mentions=(message.sender,), markdown=markdown)
    elif mode == "suggest" and (result.answered or result.suggest) and result.candidates:
        if not (ctx.first_time(text) and ctx.first_time(_pair_key(result.candidates[0].pair))):
            return
        ctx.chat_state()["last_pair"] = result.candidates[0].pair
        await ctx.reply(related_text(list(result.candidates), base_url, markdown), mentions=(message.sender,),
                        markdown=markdown)
