"""The answer engine: "was this asked and answered before?" and full-archive search.

One `AnswerEngine` per process (built in the server's cleanup_ctx and kept in Services). It holds
the archive's days, their mined Q&A pairs and two immutable indexes (questions, all messages).
`ask` and `search` read whichever snapshot is current, so they are safe to call from many threads
(the server uses `asyncio.to_thread`); `update_days`/`remove_days` build a new snapshot under a
lock and swap it in with one assignment.

Building is cheap after the first time: with a store (`from_store`, or `vector_db`) every text's
words and every unit's vector are loaded from it and only new texts are segmented or encoded
(`passage_vectors`, bot/store/tokens.py, bot/store/vectors.py); the all-messages index is built
at the first search (or by `warm()`), so a process that only answers does not pay for it.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from bot.archive.model import Day, Message, MessageKind
from bot.config import AnswerSection
from bot.qa.encoder import Encoder, clean
from bot.qa.index import TextCache, TextIndex
from bot.qa.mining import QAPair, is_greeting, mine_day
from bot.qa.scoring import CONF_BIAS, CONF_WEIGHTS, confidence, features, prepare, rank_score, search_score
from bot.text import Segmenter, normalise, segmenter

DayKey = tuple[str, dt.date]
RETRIEVE = 40  # BM25 candidates re-ranked per question
MAX_CANDIDATES = 5
MAX_QUERY_CHARS = 300  # a wall of text is matched by its start; keeps ask() fast on any input


@dataclass(frozen=True, slots=True)
class Match:
    """An archived exchange and how well it matches the question."""

    pair: QAPair
    score: float

    def to_json(self) -> dict:
        first = self.pair.first
        return {
            "group": self.pair.group,
            "date": self.pair.date.isoformat(),
            "time": first.time.strftime("%H:%M:%S"),
            "speaker": first.speaker,
            "question": self.pair.question_text,
            "answers": [
                {"time": m.time.strftime("%H:%M:%S"), "speaker": m.speaker, "text": m.text}
                for m in self.pair.answers
            ],
            "score": round(self.score, 4),
        }


@dataclass(frozen=True, slots=True)
class AskResult:
    """What the bot should do with a question: answer, suggest related discussions, or stay silent."""

    answered: bool
    confidence: float
    match: Match | None  # the answer, when answered
    candidates: tuple[Match, ...] = ()  # best first, up to 5
    suggest: bool = False  # between the thresholds: offer `related`

    @property
    def related(self) -> tuple[Match, ...]:
        return self.candidates[:3]

    def to_json(self) -> dict:
        return {
            "answered": self.answered,
            "confidence": round(self.confidence, 4),
            "match": self.match.to_json() if self.match else None,
            "candidates": [c.to_json() for c in self.candidates],
        }


@dataclass(frozen=True, slots=True)
class Hit:
    """One archived message found by search."""

    group: str
    message: Message
    score: float

    @property
    def date(self) -> dt.date:
        return self.message.time.date()

    def to_json(self) -> dict:
        return {
            "group": self.group,
            "date": self.date.isoformat(),
            "time": self.message.time.strftime("%H:%M:%S"),
            "speaker": self.message.speaker,
            "text": self.message.text,
            "score": round(self.score, 4),
        }


def dense_text(pair: QAPair) -> str:
    """What a unit's vector is made of: its question and the start of its answers."""
    return "\n".join([pair.question_text, *(m.text for m in pair.answers[:DENSE_ANSWERS])])


DENSE_ANSWERS = 2


# A question of fewer than three content words ("有推荐的吗", "商户自己收？") leans on the talk
# around it; matched on its own it draws confident nonsense from equally vague archived lines.
# Such questions (or matches) get related discussions at most, never an answer.
MIN_ANSWER_WORDS = 3
SILENT = AskResult(answered=False, confidence=0.0, match=None)


@dataclass(slots=True)
class _Snapshot:
    """Everything `ask` and `search` read; never changed after it is built."""

    group_codes: dict[str, int] = field(default_factory=dict)
    group_names: list[str] = field(default_factory=list)
    pairs: list[QAPair] = field(default_factory=list)
    pair_index: TextIndex | None = None
    messages: list[Message] = field(default_factory=list)
    message_groups: np.ndarray | None = None
    message_index: TextIndex | None = None  # built on first search (`_message_index`)
    pair_vectors: np.ndarray | None = None  # (len(pairs), dim) unit-length, with an encoder


class AnswerEngine:
    """Answers questions from mined Q&A pairs and searches every archived message."""

    def __init__(self, config: AnswerSection = AnswerSection(), text: Segmenter | None = None,
                 encoder: Encoder | None = None, vector_db=None):
        """`encoder` (bot.qa.encoder) adds dense vectors of the units; without it retrieval is lexical.
        `vector_db` (a store) keeps texts' words and vectors across restarts (`attach_store`)."""
        self.config = config
        self.segmenter = text or segmenter(tuple(config.extra_terms))
        self.encoder = encoder
        self._cache = TextCache(self.segmenter)
        self.vector_db = None  # with a store, words and vectors computed once are kept there
        self._vectors: dict[str, np.ndarray] = {}  # without one: text hash -> vector, for this process
        if vector_db is not None:
            self.attach_store(vector_db)
        self._days: dict[DayKey, Day] = {}
        self._pairs: dict[DayKey, list[QAPair]] = {}
        self._lock = threading.Lock()
        self._snap = _Snapshot()
        # The confidence model (bot/qa/scoring.py); a refit adopted on held-out data replaces it.
        self.confidence_model: tuple[tuple[float, ...], float] = (CONF_WEIGHTS, CONF_BIAS)

    # ----- building -----

    @classmethod
    def from_days(cls, days: Iterable[Day], config: AnswerSection = AnswerSection(),
                  encoder: Encoder | None = None, vector_db=None) -> AnswerEngine:
        engine = cls(config, encoder=encoder, vector_db=vector_db)
        engine.update_days(days)
        return engine

    @classmethod
    def from_store(cls, db_engine, config: AnswerSection = AnswerSection(), group: str | None = None,
                   zone: str = "Asia/Shanghai", encoder: Encoder | None = None) -> AnswerEngine:
        """Days and pairs from the database; days never mined (or changed since) are mined and saved.

        The engine keeps using the store: texts' words (bot/store/tokens.py) and vectors
        (bot/store/vectors.py) are loaded from it, and those of new texts saved to it, so a
        start segments and encodes only what no earlier run did.
        """
        engine = cls(config, encoder=encoder, vector_db=db_engine)
        engine.refresh_from_store(db_engine, group=group, zone=zone)
        return engine

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
        missing = {k: t for k, t in zip(keys, texts) if k not in self._vectors}
        if missing:
            self._vectors.update(zip(missing, self.encoder.encode_passages(list(missing.values()))))
        out = np.empty((len(texts), self.encoder.dim), dtype=np.float32)
        for i, key in enumerate(keys):
            out[i] = self._vectors[key]
        return out

    def refresh_from_store(self, db_engine, keys: Iterable[tuple[str, dt.date | str]] | None = None,
                           group: str | None = None, zone: str = "Asia/Shanghai") -> None:
        """Reload days from the store after an ingest (all, or the changed (group, date) keys).

        Keys the store no longer has are dropped from the index.
        """
        from bot.qa.store import load_days_and_pairs

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

    def update_days(self, days: Iterable[Day], pairs: dict[DayKey, list[QAPair]] | None = None) -> None:
        """Add or replace days (mining them unless their pairs are given) and rebuild the indexes."""
        with self._lock:
            for day in days:
                key = (day.group, day.date)
                self._days[key] = day
                self._pairs[key] = pairs[key] if pairs is not None and key in pairs else mine_day(day)
            self._rebuild()

    def remove_days(self, keys: Iterable[DayKey]) -> None:
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
        pair_groups = np.fromiter((codes[p.group] for p in pairs), dtype=np.int16, count=len(pairs))
        messages: list[Message] = []
        message_groups: list[int] = []
        for key in keys:
            texts = [m for m in self._days[key].messages if m.kind is MessageKind.TEXT]
            messages.extend(texts)
            message_groups.extend([codes[key[0]]] * len(texts))
        self._snap = _Snapshot(
            group_codes=codes,
            group_names=names,
            pairs=pairs,
            pair_index=TextIndex([p.question_text for p in pairs], pair_groups, self._cache),
            messages=messages,
            message_groups=np.asarray(message_groups, dtype=np.int16),
            pair_vectors=self.passage_vectors([dense_text(p) for p in pairs]) if self.encoder else None,
        )
        if searched:
            self._snap.message_index = self._build_message_index(self._snap)
        self._cache.save()

    def _message_index(self, snap: _Snapshot) -> TextIndex | None:
        """The snapshot's index of every message, built on first use: answering never needs it,
        so a one-question process (`archive-bot ask`) does not pay for it."""
        if snap.message_index is None and snap.messages:
            with self._lock:
                if snap.message_index is None:
                    snap.message_index = self._build_message_index(snap)
                    self._cache.save()
        return snap.message_index

    def _build_message_index(self, snap: _Snapshot) -> TextIndex:
        return TextIndex([m.text for m in snap.messages], snap.message_groups, self._cache, subwords=True)

    def warm(self) -> None:
        """Build what is otherwise built on first use (the search index), e.g. before a server is ready."""
        self._message_index(self._snap)

    # ----- reading -----

    @property
    def days(self) -> list[Day]:
        return list(self._days.values())

    def pairs(self) -> list[QAPair]:
        return list(self._snap.pairs)

    def stats(self) -> dict:
        snap = self._snap
        return {
            "days": len(self._days),
            "messages": len(snap.messages),
            "pairs": len(snap.pairs),
            "distinct_questions": len(snap.pair_index.docs) if snap.pair_index else 0,
            "distinct_messages": len(index.docs) if (index := self._message_index(snap)) else 0,
        }

    def _query(self, text: str) -> tuple[str, ...]:
        return tuple(self.segmenter.words(normalise(text[:MAX_QUERY_CHARS]), normalised=True))

    def ranked(self, question: str, group: str | None = None) -> list[tuple[QAPair, tuple[float, ...]]]:
        """The re-ranked candidates with their features, best first (what a refit of the confidence
        model learns from: bot/refit.py)."""
        snap = self._snap
        words = self._query(question)
        code = snap.group_codes.get(group) if group is not None else None
        if snap.pair_index is None or not words or (group is not None and code is None):
            return []
        index = snap.pair_index
        doc_ids, _ = index.top(words, RETRIEVE, code)
        query = prepare(words)
        scored = [(rank_score(values), -rank, int(d), values)
                  for rank, d in enumerate(doc_ids) for values in [features(query, index.docs[d], index, rank)]]
        scored.sort(reverse=True, key=lambda t: (t[0], t[1]))
        return [(snap.pairs[int(index.items(d, code)[-1])], values) for _, _, d, values in scored[:MAX_CANDIDATES]]

    def ask(self, question: str, group: str | None = None) -> AskResult:
        """The best archived exchange for the question, with a confidence and the verdict."""
        snap = self._snap
        if snap.pair_index is None or is_greeting(question):
            return SILENT
        words = self._query(question)
        code = snap.group_codes.get(group) if group is not None else None
        if not words or (group is not None and code is None):
            return SILENT
        index = snap.pair_index
        doc_ids, _ = index.top(words, RETRIEVE, code)
        if not len(doc_ids):
            return SILENT
        query = prepare(words)
        ranked = sorted(
            ((rank_score(values), -rank, int(d), values)
             for rank, d in enumerate(doc_ids)
             for values in [features(query, index.docs[d], index, rank)]),
            reverse=True, key=lambda t: (t[0], t[1]))
        weights, bias = self.confidence_model
        matches = tuple(
            Match(snap.pairs[int(index.items(d, code)[-1])], confidence(values, weights, bias))
            for _, _, d, values in ranked[:MAX_CANDIDATES])
        best = matches[0].score
        top_words = index.docs[ranked[0][2]].words
        says_enough = len(set(words)) >= MIN_ANSWER_WORDS and len(set(top_words)) >= MIN_ANSWER_WORDS
        answered = best >= self.config.answer_threshold and says_enough
        return AskResult(
            answered=answered,
            confidence=best,
            match=matches[0] if answered else None,
            candidates=matches,
            suggest=not answered and best >= self.config.suggest_threshold,
        )

    def dense_candidates(self, question: str, k: int = 30, group: str | None = None) -> list[Match]:
        """The k units whose vectors are nearest the question's (score = cosine), best first;
        empty without an encoder. The question is encoded here (the caller's thread)."""
        snap = self._snap
        if self.encoder is None or snap.pair_vectors is None or not len(snap.pairs) or k <= 0:
            return []
        code = snap.group_codes.get(group) if group is not None else None
        if group is not None and code is None:
            return []
        query = self.encoder.encode_queries([clean(question, MAX_QUERY_CHARS)])[0]
        scores = snap.pair_vectors @ query
        if code is not None:
            scores = np.where(snap.pair_index.item_groups == code, scores, -np.inf)
        k = min(k, len(scores))
        best = np.argpartition(-scores, k - 1)[:k]
        best = best[np.isfinite(scores[best])]
        best = best[np.argsort(-scores[best], kind="stable")]
        return [Match(snap.pairs[int(i)], float(scores[i])) for i in best]

    def search(self, query: str, group: str | None = None, limit: int = 10) -> list[Hit]:
        """Messages matching the query, best first; one hit per distinct text (its latest copy)."""
        snap = self._snap
        index = self._message_index(snap)
        words = self._query(query)
        code = snap.group_codes.get(group) if group is not None else None
        if index is None or not words or limit <= 0 or (group is not None and code is None):
            return []
        doc_ids, bm25 = index.top(words, max(50, 5 * limit), code)
        prepared = prepare(words)
        ranked = sorted(
            ((search_score(prepared, index.docs[d], index), float(b), int(d)) for d, b in zip(doc_ids, bm25)),
            reverse=True)
        hits = []
        for score, _, d in ranked[:limit]:
            if score <= 0:
                break
            item = int(index.items(d, code)[-1])
            hits.append(Hit(snap.group_names[int(index.item_groups[item])], snap.messages[item], score))
        return hits
