"""Archive members: one row per (group, "archive", display name) with first and last seen.

Kept by ingest: widened as days are added, recomputed exactly for a group when one of its days
is replaced (a name may have vanished). Rows are updated in place so their ids stay stable.
"""

from __future__ import annotations

from sqlalchemy import Connection, bindparam, delete, func, insert, select, update

from bot.store.schema import days, members, messages

ARCHIVE_PLATFORM = "archive"  # members seen only in day files; their key is the display name
_SET_SPAN = update(members).where(members.c.id == bindparam("mid")).values(
    first_seen_ts=bindparam("first"), last_seen_ts=bindparam("last"))


def merge_members(conn: Connection, seen: dict[tuple[int, str], list[int]]) -> None:
    """Widen each archive member's first/last seen to cover the new messages."""
    if not seen:
        return
    group_ids = {gid for gid, _ in seen}
    existing = {(gid, key): (mid, first, last) for mid, gid, key, first, last in conn.execute(
        select(members.c.id, members.c.group_id, members.c.user_key, members.c.first_seen_ts, members.c.last_seen_ts)
        .where(members.c.group_id.in_(sorted(group_ids)), members.c.platform == ARCHIVE_PLATFORM))}
    new, widened = [], []
    for (gid, name), (first, last) in seen.items():
        old = existing.get((gid, name))
        if old is None:
            new.append(_member_row(gid, name, first, last))
        elif first < old[1] or last > old[2]:
            widened.append({"mid": old[0], "first": min(first, old[1]), "last": max(last, old[2])})
    if new:
        conn.execute(insert(members), new)
    if widened:
        conn.execute(_SET_SPAN, widened)


def recompute_members(conn: Connection, group_id: int) -> None:
    """Exact archive members of a group after days were replaced (a name may have vanished).

    Rows are updated in place, not re-created, so their ids stay valid for other tables.
    """
    spans = {name: (first, last) for name, first, last in conn.execute(
        select(messages.c.speaker, func.min(messages.c.ts), func.max(messages.c.ts))
        .join(days, days.c.id == messages.c.day_id).where(days.c.group_id == group_id)
        .group_by(messages.c.speaker))}
    existing = {key: (mid, first, last) for mid, key, first, last in conn.execute(
        select(members.c.id, members.c.user_key, members.c.first_seen_ts, members.c.last_seen_ts)
        .where(members.c.group_id == group_id, members.c.platform == ARCHIVE_PLATFORM))}
    stale = [mid for key, (mid, _, _) in existing.items() if key not in spans]
    if stale:
        conn.execute(delete(members).where(members.c.id.in_(stale)))
    changed = [{"mid": existing[name][0], "first": first, "last": last}
               for name, (first, last) in spans.items() if name in existing and existing[name][1:] != (first, last)]
    if changed:
        conn.execute(_SET_SPAN, changed)
    new = [_member_row(group_id, name, first, last) for name, (first, last) in spans.items() if name not in existing]
    if new:
        conn.execute(insert(members), new)


def _member_row(group_id: int, name: str, first: int, last: int) -> dict:
    return {"group_id": group_id, "platform": ARCHIVE_PLATFORM, "user_key": name, "display_name": name,
            "is_bot": False, "first_seen_ts": first, "last_seen_ts": last}
