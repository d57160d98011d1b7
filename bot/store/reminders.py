"""Nickname reminder counts (rule 2.5): how often each member of a chat was reminded, and when
they were reported to the admins. The nickname job and its rename observer use these functions;
`count` and `mark_escalated` run inside the ledger's claim transaction (bot/store/ledger.py)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from sqlalchemy import Connection, Engine, delete, insert, select, update

from bot.nickname_rule import Candidate
from bot.store.schema import nickname_reminders

log = logging.getLogger(__name__)
_c = nickname_reminders.c


def _row(platform: str, chat_id: str, key: str):
    return (_c.platform == platform) & (_c.chat_id == chat_id) & (_c.user_key == key)


def counts(engine: Engine, platform: str, chat_id: str) -> dict[str, tuple[int, int | None]]:
    """user key → (reminders so far, when escalated or None)."""
    query = select(_c.user_key, _c.count, _c.escalated_ts).where(_c.platform == platform, _c.chat_id == chat_id)
    with engine.connect() as conn:
        return {key: (count, escalated) for key, count, escalated in conn.execute(query)}


def reminded_keys(engine: Engine, platform: str, chat_id: str) -> set[str]:
    query = select(_c.user_key).where(_c.platform == platform, _c.chat_id == chat_id)
    with engine.connect() as conn:
        return {key for (key,) in conn.execute(query)}


def count(conn: Connection, platform: str, chat_id: str, reminded: Sequence[Candidate], now_ts: int,
          step: int = 1) -> None:
    """Add `step` (+1 when claimed, -1 when a failed send is released) to each member's count."""
    for candidate in reminded:
        where = _row(platform, chat_id, candidate.key)
        current = conn.execute(select(_c.count).where(where)).scalar_one_or_none()
        if current is None:
            if step > 0:
                conn.execute(insert(nickname_reminders).values(
                    platform=platform, chat_id=chat_id, user_key=candidate.key, name=candidate.name,
                    count=step, first_ts=now_ts, last_ts=now_ts))
        elif current + step <= 0:
            conn.execute(delete(nickname_reminders).where(where))
        else:
            conn.execute(update(nickname_reminders).where(where).values(
                count=current + step, name=candidate.name, last_ts=now_ts))


def mark_escalated(conn: Connection, platform: str, chat_id: str, keys: Sequence[str], value: int | None) -> None:
    for key in keys:
        conn.execute(update(nickname_reminders).where(_row(platform, chat_id, key)).values(escalated_ts=value))


def clear(engine: Engine, platform: str, chat_id: str, keys: Sequence[str]) -> None:
    if keys:
        with engine.begin() as conn:
            conn.execute(delete(nickname_reminders).where(
                _c.platform == platform, _c.chat_id == chat_id, _c.user_key.in_(list(keys))))


def forget_if_renamed(engine: Engine, conforms: Callable[[str], bool], platform: str, chat_id: str,
                      user_key: str, name: str) -> bool:
    """Clear a reminded member's count once their display name changed and conforms; True when cleared."""
    where = _row(platform, chat_id, user_key)
    with engine.begin() as conn:
        reminded_as = conn.execute(select(_c.name).where(where)).scalar_one_or_none()
        if reminded_as is None or reminded_as == name or not conforms(name):
            return False
        conn.execute(delete(nickname_reminders).where(where))
    log.info("nicknames %s:%s: a reminded member renamed; count cleared", platform, chat_id)
    return True
