"""`/thread`: the full archived exchange behind the last answer the bot gave in this chat."""

from __future__ import annotations

from bot.context import Context
from bot.router import Router

router = Router("thread", order=40)
NONE_YET = "我在这个群里还没有回答过问题；先用 /ask 问一个吧。"


@router.command("thread", "原文")
async def thread(ctx: Context) -> None:
    """— 显示上一个回答背后的完整讨论"""
    from bot.qa.reply import thread_text

    pair = await ctx.last_answer()
    if pair is None:
        await ctx.reply(NONE_YET)
        return
    markdown = ctx.markdown
    await ctx.reply(thread_text(pair, ctx.services.config.bot.public_base_url, markdown), markdown=markdown)
