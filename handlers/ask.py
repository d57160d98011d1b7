"""`/ask 问题`: the best archived answer, else related discussions, else a clear "nothing found"."""

from __future__ import annotations

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
    key = (pair.group, pair.date, pair.question_seqs, pair.answer_seqs, markdown)
    cache = ctx.services.answer_texts
    text = cache.get(key)
    if text is None:
        if len(cache) >= 512:
            cache.clear()
        text = cache[key] = answer_text(match, ctx.services.config.bot.public_base_url, markdown)
    return text


@router.command("ask", "问")
async def ask(ctx: Context) -> None:
    """问题 — 在以前的讨论里找答案（找不到时列出相关讨论）"""
    from bot.qa.reply import nothing_found_text, related_text

    question = await ctx.words_for_engine(USAGE)
    if question is None:
        return
    if not ctx.first_time(question):
        await ctx.reply(REPEATED)
        return
    result = await ctx.engine("ask", question, ctx.group)
    base_url = ctx.services.config.bot.public_base_url
    markdown = ctx.markdown
    if result.answered and result.match is not None:
        ctx.remember_answer(result.match.pair)
        await ctx.reply(answer_reply(ctx, result.match, markdown), markdown=markdown)
    elif result.suggest and result.related:
        await ctx.reply(related_text(result, base_url, markdown), markdown=markdown)
    else:
        await ctx.reply(nothing_found_text())
