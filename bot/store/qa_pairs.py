"""Mined Q&A pairs kept per day version: which days have current pairs, their positions, replacing them.

A pair is stored as the positions (`seq`) of its question and answer lines in the day, so the
pairs of an unchanged day are rebuilt without mining again (bot/qa/day_pairs.py); `qa_mined`
remembers the content hash and miner version the pairs came from, so a changed day or a new
miner is mined again.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from sqlalchemy import Connection, delete, insert, select

from bot.archive.model import DayKey
from bot.store.schema import days, groups, qa_mined, qa_pairs

Seqs = tuple[list[int], list[int]]  # (question line positions, answer line positions)


class PairHead(NamedTuple):
    day_id: int
    content_hash: str
    current: bool  # the stored pairs came from this content and this miner version


def pair_heads(conn: Connection, miner_version: int, group: str | None = None,
               keys: Iterable[DayKey] | None = None) -> dict[DayKey, PairHead]:
    """Each stored day (of `group`, or among `keys`) with whether its stored pairs are current."""
    query = (select(days.c.id, groups.c.name, days.c.date, days.c.content_hash, qa_mined.c.content_hash,
                    qa_mined.c.miner_version)
             .join(groups, groups.c.id == days.c.group_id)
             .outerjoin(qa_mined, qa_mined.c.day_id == days.c.id))
    if group is not None:
        query = query.where(groups.c.name == group)
    wanted = set(keys) if keys is not None else None
    heads = {}
    for day_id, name, date, content_hash, mined_hash, version in conn.execute(query):
        if wanted is None or (name, date) in wanted:
            current = mined_hash == content_hash and version == miner_version
            heads[(name, date)] = PairHead(day_id, content_hash, current)
    return heads


def stored_pairs(conn: Connection, day_ids: list[int]) -> dict[int, list[Seqs]]:
    """The stored pairs' positions per day id, in the order they were saved."""
    found: dict[int, list[Seqs]] = {}
    for start in range(0, len(day_ids), 500):
        chunk = day_ids[start:start + 500]
        rows = conn.execute(select(qa_pairs.c.day_id, qa_pairs.c.question_seqs, qa_pairs.c.answer_seqs)
                            .where(qa_pairs.c.day_id.in_(chunk)).order_by(qa_pairs.c.id))
        for day_id, q_seqs, a_seqs in rows:
            found.setdefault(day_id, []).append((q_seqs, a_seqs))
    return found


def save_pairs(conn: Connection, day_id: int, content_hash: str, miner_version: int,
               pairs: list[tuple[list[int], list[int], int]]) -> None:
    """Replace a day's stored pairs, given as (question seqs, answer seqs, asked ts), inside the
    caller's transaction, and record the content and miner version they came from."""
    conn.execute(delete(qa_pairs).where(qa_pairs.c.day_id == day_id))
    conn.execute(delete(qa_mined).where(qa_mined.c.day_id == day_id))
    if pairs:
        conn.execute(insert(qa_pairs), [{"day_id": day_id, "question_seqs": q_seqs, "answer_seqs": a_seqs, "ts": ts}
                                        for q_seqs, a_seqs, ts in pairs])
    conn.execute(insert(qa_mined), {"day_id": day_id, "content_hash": content_hash, "miner_version": miner_version})
