"""`/search 关键词`: the archived messages that best match, with date, speaker and a snippet."""

from __future__ import annotations

from bot.context import Context
from bot.router import Router

router = Router("search", order=20)
LIMIT = 5
USAGE = "用法：/search 关键词（例如 /search 财付通 发卡行）"


@router.command("search", "搜索")
async def search(ctx: Context) -> None:
    """关键词 — 搜索本群的聊天记录，列出日期、发言人和片段"""
    from bot.qa.reply import search_text

    query = await ctx.words_for_engine(USAGE)
    if query is None:
        return
    hits = await ctx.engine("search", query, ctx.group, LIMIT)
    markdown = ctx.markdown
    await ctx.reply(search_text(hits, query, ctx.services.config.bot.public_base_url, markdown), markdown=markdown)
