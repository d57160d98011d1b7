"""What the inbox (bot/inbox.py) stores, as rows: a live message, the members it shows, renames.

Pure functions of the incoming items, kept apart from the writer thread and its SQL so each can
be read on its own.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

from bot.chat import Incoming, Member, MemberUpdate


@dataclass(slots=True)  # not frozen: one per webhook message (see bot/platforms/base.py's Request)
class Item:
    """One message to store, with the archive group its chat belongs to."""

    message: Incoming
    group: str


@dataclass(frozen=True, slots=True)
class MemberItem:
    """One member update (rename) to store, with the archive group its chat belongs to."""

    update: MemberUpdate
    group: str


LIVE_COLUMNS = ("platform", "chat_id", "message_id", "group_id", "ts", "date", "sender_id", "sender_name",
                "text", "mentions", "reply_to", "edited_ts")


@lru_cache(maxsize=64)
def _day_text(day: dt.date) -> str:
    """`day.isoformat()`, kept: every message of a day has the same, and date.isoformat formats
    through printf (a tenth of building a live row)."""
    return day.isoformat()


def live_values(m: Incoming, group_id: int, zone: ZoneInfo) -> list:
    """The live_messages row of a message, in `LIVE_COLUMNS` order; its date is the group's local
    day. A list, not a dict: SQLite's batch statements take the values as they are (the writer
    builds one for every message while the webhooks wait for the interpreter lock)."""
    time, sender = m.time, m.sender
    return [m.platform, m.chat_id, m.message_id, group_id, int(time.timestamp()),
            _day_text(time.astimezone(zone).date()), sender.id, sender.name, m.text,
            [member.name for member in m.mentions] or None, m.reply_to, None]


def live_row(m: Incoming, group_id: int, zone: ZoneInfo) -> dict:
    """The live_messages row of a message as a dict (SQLAlchemy Core's statements)."""
    return dict(zip(LIVE_COLUMNS, live_values(m, group_id, zone)))


def member_rows(items: list[Item], group_ids: dict[str, int]) -> list[dict]:
    """Members rows for the senders and joiners of these messages, one per member: first seen
    kept from the earliest, last seen and name from the latest, joined_ts from a join."""
    rows: dict[tuple, dict] = {}

    def add(member: Member, item: Item, ts: int, joined: bool) -> None:
        key = (group_ids[item.group], item.message.platform, member.id)
        row = rows.get(key)
        joined_ts = ts if joined else (row["joined_ts"] if row else None)
        rows[key] = {"group_id": key[0], "platform": key[1], "user_key": member.id,
                     "display_name": member.name, "is_bot": member.is_bot,
                     "first_seen_ts": row["first_seen_ts"] if row else ts,
                     "last_seen_ts": ts, "joined_ts": joined_ts}

    for item in items:
        m = item.message
        ts = int(m.time.timestamp())
        if m.sender.id:
            add(m.sender, item, ts, joined=False)
        for member in m.joined:
            add(member, item, ts, joined=True)
    return list(rows.values())


def member_rename_rows(renames: list[MemberItem], group_ids: dict[str, int]) -> list[dict]:
    """Members rows for renames; a member never seen before is added (first and last seen = the
    update's time, as for a join), a known one only changes name and bot flag."""
    rows: dict[tuple, dict] = {}
    for item in renames:
        update = item.update
        ts = int(update.time.timestamp())
        key = (group_ids[item.group], update.platform, update.member.id)
        rows[key] = {"group_id": key[0], "platform": key[1], "user_key": update.member.id,
                     "display_name": update.member.name, "is_bot": update.member.is_bot,
                     "first_seen_ts": ts, "last_seen_ts": ts, "joined_ts": None}
    return list(rows.values())
