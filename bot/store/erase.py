"""The SQL of erasure (bot/erasure.py): finding a person's messages, dropping what derives from them.

Archived days themselves are rewritten through `ingest_day` (so members and pairs follow); these
helpers cover the rest: live messages, members, reminders, derived words and vectors, the audit.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from bot.store.schema import (
    days, erased_days, erasures, groups, live_messages, members, messages, nickname_reminders, pending_work, qa_mined, qa_pairs,
    text_tokens, text_vectors,
)


def days_with(conn: Connection, speakers: Iterable[str], group: str | None) -> list[tuple[str, str, str]]:
    """(group, ISO date, content hash) of archived days where any of `speakers` said something."""
    names = list(speakers)
    query = (select(groups.c.name, days.c.date, days.c.content_hash).distinct()
             .join(days, days.c.group_id == groups.c.id).join(messages, messages.c.day_id == days.c.id)
             .where(messages.c.speaker.in_(names)))
    if group is not None:
        query = query.where(groups.c.name == group)
    return [tuple(row) for row in conn.execute(query.order_by(groups.c.name, days.c.date))]


def keep_hash(conn: Connection, group: str, date: str, content_hash: str) -> None:
    """Leave the day's content hash as the source file's, so re-reading that unchanged file is a
    no-op and never brings the erased words back; its pairs are mined again from what is left."""
    day_id = conn.execute(select(days.c.id).join(groups, groups.c.id == days.c.group_id)
                          .where(groups.c.name == group, days.c.date == date)).scalar_one()
    conn.execute(update(days).where(days.c.id == day_id).values(content_hash=content_hash))
    conn.execute(delete(qa_pairs).where(qa_pairs.c.day_id == day_id))
    conn.execute(delete(qa_mined).where(qa_mined.c.day_id == day_id))


def member_keys(conn: Connection, speakers: Iterable[str], group: str | None) -> set[tuple[str, str]]:
    """(platform, user id) of live members who went by any of these names."""
    query = (select(members.c.platform, members.c.user_key).join(groups, groups.c.id == members.c.group_id)
             .where(members.c.display_name.in_(list(speakers)), members.c.platform != "archive"))
    live = (select(live_messages.c.platform, live_messages.c.sender_id)
            .join(groups, groups.c.id == live_messages.c.group_id)
            .where(live_messages.c.sender_name.in_(list(speakers))))
    if group is not None:
        query, live = query.where(groups.c.name == group), live.where(groups.c.name == group)
    return {tuple(row) for row in conn.execute(query)} | {tuple(row) for row in conn.execute(live)}


def names_of(conn: Connection, platform: str, user_id: str, group: str) -> set[str]:
    """Every display name a live member was seen under in a group (what the archive calls them)."""
    found = conn.execute(select(members.c.display_name).join(groups, groups.c.id == members.c.group_id)
                         .where(members.c.platform == platform, members.c.user_key == user_id, groups.c.name == group))
    said = conn.execute(select(live_messages.c.sender_name).distinct().join(groups, groups.c.id == live_messages.c.group_id)
                        .where(live_messages.c.platform == platform, live_messages.c.sender_id == user_id,
                               groups.c.name == group))
    return {name for (name,) in found} | {name for (name,) in said}


def erase_live(conn: Connection, keys: set[tuple[str, str]], group: str | None,
               marker: str | None) -> tuple[int, list[str], list[str]]:
    """Drop (or, with a marker, blank) the live messages of these members; returns (count, their
    texts, their unit keys as bot/learning.py writes them)."""
    count, texts, units = 0, [], []
    for platform, user_id in keys:
        where = [live_messages.c.platform == platform, live_messages.c.sender_id == user_id]
        if group is not None:
            where.append(live_messages.c.group_id.in_(select(groups.c.id).where(groups.c.name == group)))
        for text, chat_id, message_id in conn.execute(select(live_messages.c.text, live_messages.c.chat_id,
                                                              live_messages.c.message_id).where(*where)):
            texts.append(text)
            units.append(f"live:{platform}:{chat_id}:{message_id}")
            conn.execute(delete(pending_work).where(pending_work.c.platform == platform, pending_work.c.chat_id == chat_id,
                                                    pending_work.c.message_id == message_id))
        if marker is None:
            count += conn.execute(delete(live_messages).where(*where)).rowcount
        else:
            count += conn.execute(update(live_messages).where(*where).values(
                text=marker, sender_name=marker, mentions=None)).rowcount
        member_where = [members.c.platform == platform, members.c.user_key == user_id]
        if group is not None:
            member_where.append(members.c.group_id.in_(select(groups.c.id).where(groups.c.name == group)))
        conn.execute(delete(members).where(*member_where))
        conn.execute(delete(nickname_reminders).where(nickname_reminders.c.platform == platform,
                                                      nickname_reminders.c.user_key == user_id))
    return count, texts, units


def forget_texts(conn: Connection, hashes: Iterable[str]) -> None:
    """Drop the stored words and vectors of these texts (by text hash, every segmenter and encoder)."""
    keys = sorted(set(hashes))
    for start in range(0, len(keys), 500):
        chunk = keys[start:start + 500]
        conn.execute(delete(text_tokens).where(text_tokens.c.text_hash.in_(chunk)))
        conn.execute(delete(text_vectors).where(text_vectors.c.text_hash.in_(chunk)))


def audit(conn: Connection, *, requested_by: str, scope: str, mode: str, archived: int, live: int, ts: int,
          days_rewritten: Iterable[tuple[str, str]] = ()) -> int:
    """The audit row (counts, never content) with the (group, ISO date) days rewritten; returns its id."""
    erasure_id = conn.execute(insert(erasures).values(requested_by=requested_by, scope=scope, mode=mode,
                                                      archived=archived, live=live, ts=ts)).inserted_primary_key[0]
    rows = [{"erasure_id": erasure_id, "group_name": g, "date": d} for g, d in dict.fromkeys(days_rewritten)]
    if rows:
        conn.execute(insert(erased_days), rows)
    return int(erasure_id)


def latest_erasure(db: Engine) -> int:
    """The id of the newest erasure (0 before the first): what a running process compares before
    every read of its answer engine. Plain SQL that both SQLite and PostgreSQL take, because it runs that often and
    skips half the cost of a Core statement (bench/erasure_check.py)."""
    with db.connect() as conn:
        return int(conn.exec_driver_sql(f"SELECT max(id) FROM {erasures.name}").scalar() or 0)


def erased_days_since(db: Engine, after: int) -> tuple[int, list[tuple[str, str]]]:
    """(newest erasure id, the (group, ISO date) days erasures after `after` rewrote, up to it)."""
    with db.connect() as conn:
        newest = int(conn.execute(select(func.max(erasures.c.id))).scalar() or 0)
        rows = conn.execute(select(erased_days.c.group_name, erased_days.c.date).distinct()
                            .where(erased_days.c.erasure_id > after, erased_days.c.erasure_id <= newest))
        return newest, sorted(tuple(row) for row in rows)
