"""`/stats`: the archive's days, messages, speakers and date range for this chat's group, plus
how many messages the group's chats received today, and the answers the bot gave in this chat
with the feedback they received."""

from __future__ import annotations

import asyncio

from bot.context import Context
from bot.router import Router
from bot.store import answers, queries
from bot.store.days import live_count
from handlers.feedback import summary

router = Router("stats", order=50)


def _archive_stats(db, group: str):
    for entry in queries.stats(db).groups:
        if entry.group == group:
            return entry
    return None


@router.command("stats", "统计")
async def stats(ctx: Context) -> None:
    """— 本群聊天记录的天数、消息数、发言人数、时间范围和今天的消息数"""
    db = ctx.services.db
    today = ctx.services.now().astimezone(ctx.services.zone).date().isoformat()
    archive, live = await asyncio.gather(asyncio.to_thread(_archive_stats, db, ctx.group),
                                         asyncio.to_thread(live_count, db, ctx.group, today))
    lines = [f"{ctx.group} 聊天记录："]
    if archive is None or not archive.days:
        lines.append("存档里还没有记录。")
    else:
        lines.append(f"{archive.days} 天，{archive.messages} 条消息，{archive.speakers} 位发言人，"
                     f"{archive.first_date} 至 {archive.last_date}")
    lines.append(f"今天（{today}）已收到 {live} 条消息。")
    counts = await ctx.db(answers.counts, db, ctx.chat.platform, ctx.chat.chat_id)
    lines.append(summary(counts) or "机器人在这里还没有回答过问题。")
    await ctx.reply("\n".join(lines))
