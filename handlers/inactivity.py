"""Rule 2.6, the monthly inactivity report: members not seen for more than N days, to the admins.

"Seen" is the members table's last_seen_ts, which the inbox refreshes on every message and join
event. Bots, the owner, the admins and the nickname allow-list are never listed. The report goes
out once per chat and month (ledger period "YYYY-MM"); removal stays with the admins.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import Engine, select

from bot.chat import Outgoing, short_name
from bot.config import ChatSection
from bot.context import Context
from bot.router import Router
from bot.store.schema import groups, live_messages, members
from handlers.nicknames import admin_target, exempt_keys, shares_group

log = logging.getLogger(__name__)
router = Router("inactivity")
MAX_LISTED = 200  # one report stays readable (and within every platform's message limit after splitting)


@dataclass(frozen=True, slots=True)
class Inactive:
    key: str
    name: str
    last_seen: dt.datetime


def inactive_members(engine: Engine, group: str, platform: str, cutoff_ts: int, exempt: set[str],
                     zone, chat_id: str | None = None) -> list[Inactive]:
    """Members of the group on the platform whose last message is older than the cutoff (only
    those who spoke in `chat_id` when several chats of the platform feed the group)."""
    query = (select(members.c.user_key, members.c.display_name, members.c.last_seen_ts)
             .join(groups, groups.c.id == members.c.group_id)
             .where(groups.c.name == group, members.c.platform == platform, members.c.is_bot.is_(False),
                    members.c.last_seen_ts < cutoff_ts)
             .order_by(members.c.last_seen_ts, members.c.id))
    if chat_id is not None:
        query = query.where(members.c.user_key.in_(select(live_messages.c.sender_id).where(
            live_messages.c.platform == platform, live_messages.c.chat_id == chat_id).distinct()))
    with engine.connect() as conn:
        return [Inactive(key, name, dt.datetime.fromtimestamp(seen, zone)) for key, name, seen in conn.execute(query)
                if key not in exempt and name not in exempt]


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
    people = await ctx.db(inactive_members, ctx.services.db, chat.group, chat.platform, cutoff,
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
