"""The answer engine: "was this asked and answered before?" and full-archive search.

One `AnswerEngine` per process (built in the server's cleanup_ctx and kept in Services). It holds
the archive's days, their retrieval units (mined exchanges, reply chains, talk passages and
conversation windows, bot.qa.units) with a hybrid unit index (bot.qa.retrieval: BM25 on two
fields, plus dense vectors when an encoder is given) and an index of all messages for search.
`ask` orders the fused candidates by one calibrated probability (bot.qa.ranker) and answers only
above the model's threshold.

Building is cheap after the first time: with a store (`from_store`, or `vector_db`) every text's
words and every unit's vector are loaded from it and only new texts are segmented or encoded
(`passage_vectors`, bot/store/tokens.py, bot/store/vectors.py); the all-messages index is built
at the first search (or by `warm()`), so a process that only answers does not pay for it.
`ask` and `search` read whichever snapshot is current, so they are safe to call from many threads
(the server uses `asyncio.to_thread`); `update_days`/`remove_days` build a new snapshot under a
lock and swap it in with one assignment.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from bot.archive.model import DEFAULT_ZONE, Day, Message, MessageKind
from bot.config import AnswerSection
from bot.qa.index import TextCache, TextIndex
from bot.qa.mining import LEANS_ON_CONTEXT, QAPair, is_greeting, mine_day
from bot.qa.features import FEATURES as RANK_FEATURES
from bot.qa.features import UnitFacts
from bot.qa.features import prepare as prepare_query
from bot.qa.features import rows as rank_rows
from bot.qa.ranker import Model, discussion_numbers, model
from bot.qa.encoder import Encoder, clean
from bot.qa.retrieval import UnitIndex, unit_texts, unit_vectors
from bot.qa.scoring import prepare, search_score
from bot.qa.units import day_units
from bot.text import Segmenter, normalise, segmenter, strip_noise

DayAt = tuple[str, dt.date]  # (group, date) of a day held in memory; the store keys days by ISO string (DayKey)
RERANK = 80  # fused candidates scored by the ranker per question
KIND_ORDER = {"exchange": 0, "chain": 1, "passage": 2, "window": 3}
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
            "kind": self.pair.kind,
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


# A question of fewer than three content words ("有推荐的吗", "商户自己收？"), or one that points back
# ("那这个怎么算？"), leans on the talk around it; matched on its own it draws confident nonsense
# from equally vague archived lines. Such questions get related discussions at most, never an answer.
MIN_ANSWER_WORDS = 3
SILENT = AskResult(answered=False, confidence=0.0, match=None)


@dataclass(slots=True)
class _Snapshot:
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


def one_blas_thread() -> None:
    """Let BLAS (numpy's matrix products) use one thread in this process from now on.

    The engine's products are one question against every unit's vector: 0.5 ms on one core, but
    2.8 ms when OpenBLAS spreads each over both cores of a busy machine, and worse with several
    engine threads asking at once. Each output is summed the same way either way (same vectors)."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1, user_api="blas")


class AnswerEngine:
    """Answers questions from mined Q&A pairs and searches every archived message."""

    def __init__(self, config: AnswerSection = AnswerSection(), text: Segmenter | None = None,
                 encoder: Encoder | None = None, ranker: Model | None = None, vector_db=None):
        """`encoder` (bot.qa.encoder) adds dense vectors of the units; without it retrieval is lexical
        and the lexical ranker decides. `vector_db` keeps words and vectors in that store."""
        self.config = config
        self.segmenter = text or segmenter(tuple(config.extra_terms))
        self.encoder = encoder
        if encoder is not None:
            one_blas_thread()
        self.ranker = ranker or model(self.ranker_kind)
        self._cache = TextCache(self.segmenter)
        self.vector_db = None  # with a store, words and vectors computed once are kept there
        self._memory_vectors: dict[str, np.ndarray] = {}  # without one: kept for this process
        self._days: dict[DayAt, Day] = {}
        self._pairs: dict[DayAt, list[QAPair]] = {}
        self._lock = threading.Lock()
        self._snap = _Snapshot()
        if vector_db is not None:
            self.attach_store(vector_db)

    # ----- building -----

    @classmethod
    def from_days(cls, days: Iterable[Day], config: AnswerSection = AnswerSection(),
                  encoder: Encoder | None = None, vector_db=None, ranker: Model | None = None) -> AnswerEngine:
        engine = cls(config, encoder=encoder, vector_db=vector_db, ranker=ranker)
        engine.update_days(days)
        return engine

    @classmethod
    def from_store(cls, db_engine, config: AnswerSection = AnswerSection(), group: str | None = None,
                   zone: str = DEFAULT_ZONE, encoder: Encoder | None = None) -> AnswerEngine:
        """Days and pairs from the database; days never mined (or changed since) are mined and saved.

        The engine keeps using the store: texts' words (bot/store/tokens.py) and vectors
        (bot/store/vectors.py) are loaded from it, and those of new texts saved to it, so a
        start segments and encodes only what no earlier run did.
        """
        engine = cls(config, encoder=encoder)
        engine.attach_store(db_engine)
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
        self._snap = _Snapshot(
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

    def _query(self, text: str) -> tuple[str, ...]:
        return tuple(self.segmenter.words(normalise(text[:MAX_QUERY_CHARS]), normalised=True))

    @property
    def ranker_kind(self) -> str:
        """Which shipped model this engine's features are for: "hybrid" (with an encoder) or "lexical"."""
        return "hybrid" if self.encoder is not None else "lexical"

    @property
    def answer_threshold(self) -> float:
        """The configured answer threshold, else the one fitted with the ranker."""
        configured = self.config.answer_threshold
        return self.ranker.answer_threshold if configured is None else configured

    @property
    def suggest_threshold(self) -> float:
        configured = self.config.suggest_threshold
        return self.ranker.suggest_threshold if configured is None else configured

    def _codes(self, group: str | Iterable[str] | None) -> list[int] | None:
        """Group codes a question may be answered from; [] when none of them is indexed."""
        if group is None:
            return None
        names = [group] if isinstance(group, str) else list(group)
        return [self._snap.group_codes[n] for n in names if n in self._snap.group_codes]

    def candidate_rows(self, question: str, group: str | Iterable[str] | None = None,
                       before: dt.date | None = None) -> tuple[list[QAPair], np.ndarray]:
        """Every fused candidate unit with its ranker features (one row each), in retrieval order:
        what the ranker scores, and what it is fitted on (bench/fit_ranker.py, bot/refit.py)."""
        snap = self._snap
        codes = self._codes(group)
        nothing: tuple[list[QAPair], np.ndarray] = ([], np.zeros((0, len(RANK_FEATURES))))
        if snap.units is None or not len(snap.units) or codes == [] or is_greeting(question):
            return nothing
        words = self._query(question)
        vector = self._query_vector(question)
        if not words and vector is None:
            return nothing
        cands = snap.units.candidates(words, vector, codes, before).first(RERANK)
        if not len(cands):
            return nothing
        query = prepare_query(words, snap.units.bodies)
        rows = rank_rows(query, cands, snap.units, snap.facts)
        return [snap.units.units[i] for i in cands.items.tolist()], rows

    def _query_vector(self, question: str) -> np.ndarray | None:
        """The question's vector, without @mentions, emoji codes and links (a member's name and
        company in a mention are not what is asked)."""
        if self.encoder is None:
            return None
        text = " ".join(strip_noise(question[:MAX_QUERY_CHARS]).split()) or question
        return self.encoder.encode_queries([clean(text, MAX_QUERY_CHARS)])[0]

    def scored(self, question: str, group: str | Iterable[str] | None = None,
               before: dt.date | None = None) -> list[tuple[QAPair, float, np.ndarray]]:
        """Every fused candidate with its probability and features, most probable first, one per
        anchor message. `before` keeps only days strictly before it (held-out evaluation)."""
        units, rows = self.candidate_rows(question, group, before)
        if not units:
            return []
        discussions = discussion_numbers(units)
        probs = self.ranker.probability(rows, discussions)
        # Units that start at the same message are one discussion: it takes the best probability
        # and is shown as its most structured unit (an exchange before a chain, a talk, a window).
        best: dict[int, int] = {}
        shown: dict[int, int] = {}
        for i, unit in enumerate(units):
            anchor = int(discussions[i])
            if anchor not in best or probs[i] > probs[best[anchor]]:
                best[anchor] = i
            if anchor not in shown or KIND_ORDER[unit.kind] < KIND_ORDER[units[shown[anchor]].kind]:
                shown[anchor] = i
        order = sorted(best, key=lambda a: -probs[best[a]])
        return [(units[shown[a]], float(probs[best[a]]), rows[best[a]]) for a in order]

    def says_enough(self, question: str) -> bool:
        """Whether the question may be answered at all: enough content words, and it does not point
        back at the talk around it (such questions get related discussions at most)."""
        return len(set(self._query(question))) >= MIN_ANSWER_WORDS and not LEANS_ON_CONTEXT.search(question)

    def ask(self, question: str, group: str | Iterable[str] | None = None, before: dt.date | None = None) -> AskResult:
        """The best archived unit for the question, with its calibrated probability and the verdict.

        `group` is one group or several (a chat drawing on several archives); `before` limits the
        archive to days strictly before a date.
        """
        scored = self.scored(question, group, before)
        if not scored:
            return SILENT
        matches = tuple(Match(unit, prob) for unit, prob, _ in scored[:MAX_CANDIDATES])
        best = matches[0].score
        answer_at, suggest_at = self.answer_threshold, self.suggest_threshold
        answered = best >= answer_at and self.says_enough(question)
        return AskResult(
            answered=answered,
            confidence=best,
            match=matches[0] if answered else None,
            candidates=matches,
            suggest=not answered and best >= suggest_at,
        )

    def vector_texts(self) -> set[str]:
        """The distinct texts the units' vectors are made of (what an encoder encodes once)."""
        units = self._snap.units.units if self._snap.units else []
        _, bodies, _, questions = unit_texts(units)
        return set(bodies) | set(questions)

    def dense_candidates(self, question: str, k: int = 30, group: str | None = None) -> list[Match]:
        """The k units whose body vectors are nearest the question's (score = cosine), best first;
        empty without an encoder."""
        snap = self._snap
        units = snap.units
        codes = self._codes(group)
        if self.encoder is None or units is None or units.b_vectors is None or not len(units) or k <= 0 or codes == []:
            return []
        scores = units.b_vectors @ self._query_vector(question)
        mask = units.mask(codes, None)
        if mask is not None:
            scores = np.where(mask, scores, -np.inf)
        k = min(k, len(scores))
        best = np.argpartition(-scores, k - 1)[:k]
        best = best[np.isfinite(scores[best])]
        best = best[np.argsort(-scores[best], kind="stable")]
        return [Match(units.units[int(i)], float(scores[i])) for i in best]

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
