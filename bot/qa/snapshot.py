"""The archive's days held in memory and the indexes built from them, swapped in whole on each change.

`IndexedDays` keeps the days and their mined pairs, and builds from them one `Snapshot`: the
retrieval units with their hybrid index (bot.qa.retrieval), what the ranker knows of each unit,
and every text message for search. Readers (`AnswerEngine.ask`, `search`) take whichever snapshot
is current, so they may run in many threads; `update_days`, `remove_days` and
`refresh_from_store` build a new snapshot under a lock and swap it in with one assignment.

With a store, every text's words and every unit's vector are loaded from it and only new texts are
segmented or encoded (bot/store/tokens.py, bot/store/vectors.py); the all-messages index is built
at the first search (or by `warm()`), so a process that only answers does not pay for it.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from bot.archive.model import DEFAULT_ZONE, Day, Message, MessageKind
from bot.qa.encoder import Encoder
from bot.qa.features import UnitFacts
from bot.qa.index import TextCache, TextIndex
from bot.qa.mining import QAPair, mine_day
from bot.qa.retrieval import UnitIndex, unit_texts, unit_vectors
from bot.qa.units import day_units
from bot.text import Segmenter

DayAt = tuple[str, dt.date]  # (group, date) of a day held in memory; the store keys days by ISO string (DayKey)


@dataclass(slots=True)
class Snapshot:
    """Everything `ask` and `search` read; never changed after it is built."""

    group_codes: dict[str, int] = field(default_factory=dict)
    group_names: list[str] = field(default_factory=list)
    pairs: list[QAPair] = field(default_factory=list)
    units: UnitIndex | None = None
    facts: UnitFacts | None = None  # what each unit is, whatever the question (kept after first use)
    messages: list[Message] = field(default_factory=list)
    message_groups: np.ndarray | None = None
    message_index: TextIndex | None = None  # built on first search (`_message_index`)
    by_id: dict[str, QAPair] | None = None  # units by `unit_id`, built on first `unit`


class IndexedDays:
    """Days and their pairs, and the current snapshot of the indexes built from them."""

    def __init__(self, segmenter: Segmenter, encoder: Encoder | None = None, vector_db=None):
        """`encoder` adds dense vectors of the units; `vector_db` keeps words and vectors in that store."""
        self.segmenter = segmenter
        self.encoder = encoder
        self._cache = TextCache(segmenter)
        self.vector_db = None  # with a store, words and vectors computed once are kept there
        self._memory_vectors: dict[str, np.ndarray] = {}  # without one: kept for this process
        self._days: dict[DayAt, Day] = {}
        self._pairs: dict[DayAt, list[QAPair]] = {}
        self._lock = threading.Lock()
        self._snap = Snapshot()
        if vector_db is not None:
            self.attach_store(vector_db)

    # ----- building -----

    def attach_store(self, db_engine) -> None:
        """Keep words and vectors in this store (loads the words it already holds)."""
        self.vector_db = db_engine
        self._cache.attach(db_engine)

    def passage_vectors(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length vectors of texts as passages, (len(texts), encoder.dim): each text is encoded
        once, then loaded from the store (or, without one, kept in memory). Needs an encoder."""
        from bot.store.vectors import ensure_vectors, text_hash

        if self.vector_db is not None:
            return ensure_vectors(self.vector_db, self.encoder, texts, description="encoding the archive")
        keys = [text_hash(t) for t in texts]
        missing = {k: t for k, t in zip(keys, texts) if k not in self._memory_vectors}
        if missing:
            self._memory_vectors.update(zip(missing, self.encoder.encode_passages(list(missing.values()))))
        out = np.empty((len(texts), self.encoder.dim), dtype=np.float32)
        for i, key in enumerate(keys):
            out[i] = self._memory_vectors[key]
        return out

    def refresh_from_store(self, db_engine, keys: Iterable[tuple[str, dt.date | str]] | None = None,
                           group: str | None = None, zone: str = DEFAULT_ZONE) -> None:
        """Reload days from the store after an ingest (all, or the changed (group, date) keys).

        Keys the store no longer has are dropped from the index.
        """
        from bot.qa.day_pairs import load_days_and_pairs

        keys = None if keys is None else [(g, d if isinstance(d, dt.date) else dt.date.fromisoformat(d)) for g, d in keys]
        loaded = load_days_and_pairs(db_engine, group, keys, zone)
        found = {(d.group, d.date) for d, _ in loaded}
        with self._lock:
            gone = [k for k in (keys or ()) if k not in found]
            if keys is None:
                gone = [k for k in self._days if k not in found and (group is None or k[0] == group)]
            for key in gone:
                self._days.pop(key, None)
                self._pairs.pop(key, None)
            for day, pairs in loaded:
                self._days[(day.group, day.date)] = day
                self._pairs[(day.group, day.date)] = pairs
            self._rebuild()

    def update_days(self, days: Iterable[Day], pairs: dict[DayAt, list[QAPair]] | None = None) -> None:
        """Add or replace days (mining them unless their pairs are given) and rebuild the indexes."""
        with self._lock:
            for day in days:
                key = (day.group, day.date)
                self._days[key] = day
                self._pairs[key] = pairs[key] if pairs is not None and key in pairs else mine_day(day)
            self._rebuild()

    def remove_days(self, keys: Iterable[DayAt]) -> None:
        """Drop (group, date) days and their pairs, e.g. a day deleted from the archive."""
        with self._lock:
            for key in keys:
                self._days.pop(key, None)
                self._pairs.pop(key, None)
            self._rebuild()

    def _rebuild(self) -> None:
        searched = self._snap.message_index is not None  # then build the new search index now, not at a search
        keys = sorted(self._days, key=lambda k: (k[1], k[0]))  # oldest first: the latest copy wins
        names = sorted({group for group, _ in keys})
        codes = {name: i for i, name in enumerate(names)}
        pairs = [pair for key in keys for pair in self._pairs[key]]
        units = [unit for key in keys for unit in day_units(self._days[key], self._pairs[key])]
        messages: list[Message] = []
        message_groups: list[int] = []
        for key in keys:
            texts = [m for m in self._days[key].messages if m.kind is MessageKind.TEXT]
            messages.extend(texts)
            message_groups.extend([codes[key[0]]] * len(texts))
        unit_index = UnitIndex(units, codes, self._cache, self._encode(units))
        self._snap = Snapshot(
            group_codes=codes,
            group_names=names,
            pairs=pairs,
            units=unit_index,
            facts=UnitFacts(unit_index),
            messages=messages,
            message_groups=np.asarray(message_groups, dtype=np.int16),
        )
        if searched:
            self._snap.message_index = self._build_message_index(self._snap)
        self._cache.save()

    def _message_index(self, snap: Snapshot) -> TextIndex | None:
        """The snapshot's index of every message, built on first use: answering never needs it,
        so a one-question process (`archive-bot ask`) does not pay for it."""
        if snap.message_index is None and snap.messages:
            with self._lock:
                if snap.message_index is None:
                    snap.message_index = self._build_message_index(snap)
                    self._cache.save()
        return snap.message_index

    def _build_message_index(self, snap: Snapshot) -> TextIndex:
        return TextIndex([m.text for m in snap.messages], snap.message_groups, self._cache, subwords=True)

    def warm(self) -> None:
        """Build what is otherwise built on first use (the search index), e.g. before a server is ready."""
        self._message_index(self._snap)

    def _encode(self, units: list[QAPair]) -> tuple[np.ndarray, np.ndarray] | None:
        if self.encoder is None:
            return None
        return unit_vectors(units, self.passage_vectors)

    # ----- reading -----

    @property
    def days(self) -> list[Day]:
        return list(self._days.values())

    def pairs(self) -> list[QAPair]:
        return list(self._snap.pairs)

    def unit(self, unit_id: str) -> QAPair | None:
        """The indexed unit with this id (`QAPair.unit_id`: what pins and feedback name), or None."""
        snap = self._snap
        if snap.by_id is None:
            snap.by_id = {unit.unit_id: unit for unit in (snap.units.units if snap.units else ())}
        return snap.by_id.get(unit_id)

    def stats(self) -> dict:
        snap = self._snap
        return {
            "days": len(self._days),
            "messages": len(snap.messages),
            "pairs": len(snap.pairs),
            "units": len(snap.units) if snap.units else 0,
            "distinct_questions": len(snap.units.questions.docs) if snap.units else 0,
            "distinct_messages": len(index.docs) if (index := self._message_index(snap)) else 0,
        }

    def vector_texts(self) -> set[str]:
        """The distinct texts the units' vectors are made of (what an encoder encodes once)."""
        units = self._snap.units.units if self._snap.units else []
        _, bodies, _, questions = unit_texts(units)
        return set(bodies) | set(questions)
