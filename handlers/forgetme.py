"""`/forgetme`: a member takes their own words out of this group's archive (bot/erasure.py).

Irreversible, so it asks first: `/forgetme` explains, `/forgetme 确认` erases. Everything the member
said in this chat's group, under any name the bot saw them use, leaves the store, the answer
index, the web pages and the published day files; the bot never quotes it again. The audit row
says who asked and how many messages went, nothing of what they said.
"""

from __future__ import annotations

import asyncio

from bot.context import Context
from bot.router import Router

router = Router("forgetme", order=90)

CONFIRM_WORDS = ("确认", "confirm")
EXPLAIN = ("这会从本群的聊天存档、搜索、网页和发布的日志文件里删除你说过的所有话，且无法恢复。"
           "确定的话请发送：/forgetme 确认")


@router.command("forgetme", "删除我的记录")
async def forget_me(ctx: Context) -> None:
    """— 从本群存档里删除你说过的所有话（需要确认）"""
    from bot.erasure import erase

    if ctx.args.strip().casefold() not in CONFIRM_WORDS:
        await ctx.reply(EXPLAIN)
        return
    sender = ctx.message.sender
    services = ctx.services
    done = await asyncio.to_thread(
        erase, services.db, services.config, {sender.name}, group=ctx.group,
        live_member=(ctx.chat.platform, sender.id), requested_by=f"{ctx.chat.platform}:{sender.id}", now=ctx.now)
    await services.erasures.catch_up_async(services)  # the engine reloads the days, rendered answers go
    await ctx.reply(f"已删除：存档中 {done.archived} 条、本群新消息 {done.live} 条。机器人不会再引用它们。")
