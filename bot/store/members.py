"""Who the live chats know: the members table as the nickname and inactivity jobs read it.

The members table is per group (several chats may feed one group); `chat_id` narrows a list to
those who spoke in that chat, so a reminder or report never names people of another chat.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Engine, select

from bot.nickname_rule import Candidate
from bot.store.schema import groups, live_messages, members


@dataclass(frozen=True, slots=True)
class Inactive:
    key: str
    name: str
    last_seen: dt.datetime


def _spoke_in(platform: str, chat_id: str):
    return select(live_messages.c.sender_id).where(
        live_messages.c.platform == platform, live_messages.c.chat_id == chat_id).distinct()


def known(engine: Engine, group: str, platform: str, chat_id: str | None = None) -> list[Candidate]:
    """Every member of the group seen on the platform (messages and join events), oldest first."""
    query = (select(members.c.user_key, members.c.display_name, members.c.is_bot, members.c.joined_ts)
             .join(groups, groups.c.id == members.c.group_id)
             .where(groups.c.name == group, members.c.platform == platform)
             .order_by(members.c.first_seen_ts, members.c.id))
    if chat_id is not None:
        query = query.where(members.c.user_key.in_(_spoke_in(platform, chat_id)))
    with engine.connect() as conn:
        return [Candidate(key, name, bool(is_bot), joined) for key, name, is_bot, joined in conn.execute(query)]


def silent_since(engine: Engine, group: str, platform: str, cutoff_ts: int, exempt: set[str], zone,
                 chat_id: str | None = None) -> list[Inactive]:
    """People (not bots, not `exempt` ids or names) whose last message is older than the cutoff."""
    query = (select(members.c.user_key, members.c.display_name, members.c.last_seen_ts)
             .join(groups, groups.c.id == members.c.group_id)
             .where(groups.c.name == group, members.c.platform == platform, members.c.is_bot.is_(False),
                    members.c.last_seen_ts < cutoff_ts)
             .order_by(members.c.last_seen_ts, members.c.id))
    if chat_id is not None:
        query = query.where(members.c.user_key.in_(_spoke_in(platform, chat_id)))
    with engine.connect() as conn:
        return [Inactive(key, name, dt.datetime.fromtimestamp(seen, zone)) for key, name, seen in conn.execute(query)
                if key not in exempt and name not in exempt]
