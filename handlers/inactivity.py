"""Rule 2.6, the monthly inactivity report: members not seen for more than N days, to the admins.

"Seen" is the members table's last_seen_ts, which the inbox refreshes on every message and join
event. Bots, the owner, the admins and the nickname allow-list are never listed. The report goes
out once per chat and month (ledger period "YYYY-MM"); removal stays with the admins.
"""

from __future__ import annotations

import datetime as dt
import logging

from bot.chat import Outgoing, short_name
from bot.config import ChatSection
from bot.context import Context
from bot.router import Router
from bot.store import members
from bot.store.members import Inactive
from handlers.nicknames import admin_target, exempt_keys, shares_group

log = logging.getLogger(__name__)
router = Router("inactivity")
MAX_LISTED = 200  # one report stays readable (and within every platform's message limit after splitting)


def report_text(people: list[Inactive], days: int) -> str:
    if not people:
        return f"本月活跃度统计（群规 2.6）：没有超过 {days} 天未发言的成员。"
    lines = [f"本月活跃度统计（群规 2.6）：{len(people)} 位成员超过 {days} 天没有发言，可考虑移出："]
    lines += [f"- {short_name(p.name)}（最后发言 {p.last_seen:%Y-%m-%d}）" for p in people[:MAX_LISTED]]
    if len(people) > MAX_LISTED:
        lines.append(f"……另有 {len(people) - MAX_LISTED} 位")
    return "\n".join(lines)


async def report_chat(ctx: Context, chat: ChatSection) -> list[Inactive]:
    days = ctx.config.schedule.inactivity_days
    cutoff = int((ctx.now - dt.timedelta(days=days)).timestamp())
    people = await ctx.db(members.silent_since, ctx.services.db, chat.group, chat.platform, cutoff,
                          exempt_keys(ctx.config, chat), ctx.services.zone,
                          chat.chat_id if shares_group(ctx.config, chat) else None)
    target, mentions = admin_target(chat)
    await ctx.post_once(chat, f"{ctx.today:%Y-%m}", [Outgoing(chat_id=target, text=report_text(people, days),
                                                                mentions=mentions)], job="inactivity")
    return people


@router.job("inactivity", at="inactivity_time", day="inactivity_day")
async def inactivity_job(ctx: Context) -> None:
    """The scheduled run (monthly, schedule.inactivity_day): every configured chat."""
    for chat in ctx.chats:
        people = await report_chat(ctx, chat)
        log.info("inactivity %s:%s: %d member(s) listed", chat.platform, chat.chat_id, len(people))
