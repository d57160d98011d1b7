"""The answer engine: "was this asked and answered before?" and full-archive search.

One `AnswerEngine` per process (built in the server's cleanup_ctx and kept in Services). It holds
the archive's days, their retrieval units (mined exchanges, reply chains, talk passages and
conversation windows, bot.qa.units) with a hybrid unit index (bot.qa.retrieval: BM25 on two
fields, plus dense vectors when an encoder is given) and an index of all messages for search;
holding and rebuilding those is bot.qa.snapshot's job, this module asks and searches them.
`ask` orders the fused candidates by one calibrated probability (bot.qa.ranker) and answers only
above the model's threshold.

`ask` and `search` read whichever snapshot is current, so they are safe to call from many threads
(the server uses `asyncio.to_thread`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import numpy as np

from bot.archive.model import DEFAULT_ZONE, Day
from bot.config import AnswerSection
from bot.qa.mining import LEANS_ON_CONTEXT, QAPair, is_greeting
from bot.qa.features import FEATURES as RANK_FEATURES
from bot.qa.features import prepare as prepare_query
from bot.qa.features import rows as rank_rows
from bot.qa.ranker import Model, discussion_numbers, model
from bot.qa.encoder import Encoder, clean
from bot.qa.results import SILENT, AskResult, Hit, Match
from bot.qa.scoring import prepare, search_score
from bot.qa.snapshot import IndexedDays
from bot.text import Segmenter, normalise, segmenter, strip_noise

RERANK = 80  # fused candidates scored by the ranker per question
KIND_ORDER = {"exchange": 0, "chain": 1, "passage": 2, "window": 3}
MAX_CANDIDATES = 5
MAX_QUERY_CHARS = 300  # a wall of text is matched by its start; keeps ask() fast on any input

# A question of fewer than three content words ("有推荐的吗", "商户自己收？"), or one that points back
# ("那这个怎么算？"), leans on the talk around it; matched on its own it draws confident nonsense
# from equally vague archived lines. Such questions get related discussions at most, never an answer.
MIN_ANSWER_WORDS = 3


def one_blas_thread() -> None:
    """Let BLAS (numpy's matrix products) use one thread in this process from now on.

    The engine's products are one question against every unit's vector: 0.5 ms on one core, but
    2.8 ms when OpenBLAS spreads each over both cores of a busy machine, and worse with several
    engine threads asking at once. Each output is summed the same way either way (same vectors)."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1, user_api="blas")


class AnswerEngine(IndexedDays):
    """Answers questions from the archive's retrieval units and searches every archived message."""

    def __init__(self, config: AnswerSection = AnswerSection(), text: Segmenter | None = None,
                 encoder: Encoder | None = None, ranker: Model | None = None, vector_db=None):
        """`encoder` (bot.qa.encoder) adds dense vectors of the units; without it retrieval is lexical
        and the lexical ranker decides. `vector_db` keeps words and vectors in that store."""
        self.config = config
        super().__init__(text or segmenter(tuple(config.extra_terms)), encoder, vector_db)
        if encoder is not None:
            one_blas_thread()
        self.ranker = ranker or model(self.ranker_kind)

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

    # ----- asking -----

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
