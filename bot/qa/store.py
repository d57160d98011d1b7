"""Q&A pairs in the database: mined once per day version, loaded with their days.

`load_days_and_pairs` is what `AnswerEngine.from_store` uses: it streams the stored days
(bot.store.queries.iter_days), reuses pairs mined from the same content by the same miner version,
and mines (and saves) the rest, so a restart costs no mining and a re-ingested day is re-mined.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Engine, delete, insert, select

from bot.archive.model import DEFAULT_ZONE, Day, DayKey
from bot.qa.mining import MINER_VERSION, QAPair, make_pair, mine_day
from bot.store.queries import iter_days
from bot.store.schema import days, groups, qa_mined, qa_pairs


def _heads(conn, group: str | None, keys: Iterable[DayKey] | None):
    """(group, date) -> (day_id, content_hash, whether the stored pairs are current)."""
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
            heads[(name, date)] = (day_id, content_hash, mined_hash == content_hash and version == MINER_VERSION)
    return heads


def _stored_pairs(conn, day_ids: list[int]) -> dict[int, list[tuple[list[int], list[int]]]]:
    found: dict[int, list] = {}
    for start in range(0, len(day_ids), 500):
        chunk = day_ids[start:start + 500]
        rows = conn.execute(select(qa_pairs.c.day_id, qa_pairs.c.question_seqs, qa_pairs.c.answer_seqs)
                            .where(qa_pairs.c.day_id.in_(chunk)).order_by(qa_pairs.c.id))
        for day_id, q_seqs, a_seqs in rows:
            found.setdefault(day_id, []).append((q_seqs, a_seqs))
    return found


def _rebuild(day: Day, seqs: list[tuple[list[int], list[int]]]) -> list[QAPair] | None:
    """Pairs from stored positions; None if they no longer fit the day (then it is re-mined)."""
    n = len(day.messages)
    pairs = []
    for q_seqs, a_seqs in seqs:
        if not q_seqs or any(not 0 <= i < n for i in (*q_seqs, *a_seqs)):
            return None
        pairs.append(make_pair(day, q_seqs, a_seqs))
    return pairs


def save_pairs(conn, day_id: int, content_hash: str, pairs: list[QAPair]) -> None:
    """Replace a day's stored pairs (inside the caller's transaction)."""
    conn.execute(delete(qa_pairs).where(qa_pairs.c.day_id == day_id))
    conn.execute(delete(qa_mined).where(qa_mined.c.day_id == day_id))
    if pairs:
        conn.execute(insert(qa_pairs), [
            {"day_id": day_id, "question_seqs": list(p.question_seqs), "answer_seqs": list(p.answer_seqs),
             "ts": int(p.first.time.timestamp())} for p in pairs])
    conn.execute(insert(qa_mined), {"day_id": day_id, "content_hash": content_hash, "miner_version": MINER_VERSION})


def load_days_and_pairs(engine: Engine, group: str | None = None, keys: Iterable[DayKey] | None = None,
                        zone: str = DEFAULT_ZONE) -> list[tuple[Day, list[QAPair]]]:
    """Stored days with their pairs; days without current pairs are mined and the pairs saved."""
    keys = None if keys is None else [(g, d if isinstance(d, str) else d.isoformat()) for g, d in keys]
    with engine.connect() as conn:
        heads = _heads(conn, group, keys)
        stored = _stored_pairs(conn, [h[0] for h in heads.values() if h[2]])
    out: list[tuple[Day, list[QAPair]]] = []
    fresh: list[tuple[int, str, list[QAPair]]] = []
    for day in iter_days(engine, group, zone, keys=keys):
        head = heads.get((day.group, day.date.isoformat()))
        pairs = _rebuild(day, stored.get(head[0], [])) if head and head[2] else None
        if pairs is None:
            pairs = mine_day(day)
            if head:
                fresh.append((head[0], head[1], pairs))
        out.append((day, pairs))
    if fresh:
        with engine.begin() as conn:
            for day_id, content_hash, pairs in fresh:
                save_pairs(conn, day_id, content_hash, pairs)
    return out
