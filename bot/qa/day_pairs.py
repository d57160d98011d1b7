"""Stored days with their Q&A pairs: mined once per day version, rebuilt from stored positions after.

`load_days_and_pairs` is what `AnswerEngine.from_store` uses: it streams the stored days
(bot.store.queries.iter_days), reuses pairs mined from the same content by the same miner version
(bot/store/qa_pairs.py), and mines (and saves) the rest, so a restart costs no mining and a
re-ingested day is re-mined.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Engine

from bot.archive.model import DEFAULT_ZONE, Day, DayKey
from bot.qa.mining import MINER_VERSION, QAPair, make_pair, mine_day
from bot.store import qa_pairs
from bot.store.queries import iter_days


def _rebuild(day: Day, seqs: list[qa_pairs.Seqs]) -> list[QAPair] | None:
    """Pairs from stored positions; None if they no longer fit the day (then it is re-mined)."""
    n = len(day.messages)
    pairs = []
    for q_seqs, a_seqs in seqs:
        if not q_seqs or any(not 0 <= i < n for i in (*q_seqs, *a_seqs)):
            return None
        pairs.append(make_pair(day, q_seqs, a_seqs))
    return pairs


def _positions(pairs: list[QAPair]) -> list[tuple[list[int], list[int], int]]:
    """What the store keeps of each pair: its lines' positions and when its question was asked."""
    return [(list(p.question_seqs), list(p.answer_seqs), int(p.first.time.timestamp())) for p in pairs]


def load_days_and_pairs(engine: Engine, group: str | None = None, keys: Iterable[DayKey] | None = None,
                        zone: str = DEFAULT_ZONE) -> list[tuple[Day, list[QAPair]]]:
    """Stored days with their pairs; days without current pairs are mined and the pairs saved."""
    keys = None if keys is None else [(g, d if isinstance(d, str) else d.isoformat()) for g, d in keys]
    with engine.connect() as conn:
        heads = qa_pairs.pair_heads(conn, MINER_VERSION, group, keys)
        stored = qa_pairs.stored_pairs(conn, [h.day_id for h in heads.values() if h.current])
    out: list[tuple[Day, list[QAPair]]] = []
    fresh: list[tuple[int, str, list[QAPair]]] = []
    for day in iter_days(engine, group, zone, keys=keys):
        head = heads.get((day.group, day.date.isoformat()))
        pairs = _rebuild(day, stored.get(head.day_id, [])) if head and head.current else None
        if pairs is None:
            pairs = mine_day(day)
            if head:
                fresh.append((head.day_id, head.content_hash, pairs))
        out.append((day, pairs))
    if fresh:
        with engine.begin() as conn:
            for day_id, content_hash, pairs in fresh:
                qa_pairs.save_pairs(conn, day_id, content_hash, MINER_VERSION, _positions(pairs))
    return out
