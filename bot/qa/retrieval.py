"""Hybrid candidates over retrieval units: BM25 on two fields plus dense vectors, fused by rank.

Each unit is indexed twice for BM25 (bm25s, jieba words with the field's synonyms): its question
(what it asked, with the context it leans on) and its body (context, question and answers). With an
encoder, each unit also has two vectors (question, body; talks and windows only a body). A query
gets the top candidates of each list, fused with reciprocal-rank fusion (RRF), restricted to the
groups a chat draws on and, for an honest evaluation, to days before a date. Conversation windows
have no vectors (they overlap the other units; BM25 finds them). The features of each
candidate are then scored by bot.qa.ranker.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bot.qa.encoder import Encoder
from bot.qa.index import TextCache, TextIndex
from bot.qa.mining import QAPair, said

PER_LIST = 30  # candidates taken from each of the four lists
RRF_K = 60
BODY_CHARS = 400  # the body text a unit is matched (and encoded) by
VECTOR_KINDS = ("exchange", "chain")  # units whose question has a vector of its own


def question_text(unit: QAPair) -> str:
    """What the unit asked, with the lines it leans on."""
    return f"{unit.context_text}\n{unit.question_text}" if unit.context else unit.question_text


def body_text(unit: QAPair) -> str:
    """The unit as one text: context, question, then the answers, cut at BODY_CHARS."""
    if unit.kind in ("passage", "window"):
        return unit.excerpt[:BODY_CHARS]
    parts = [question_text(unit)] + [said(m.text) for m in unit.answers if m.kind.value == "text"]
    return "\n".join(parts)[:BODY_CHARS]


@dataclass(frozen=True, slots=True)
class Candidates:
    """A query's fused candidates, best RRF first, and the raw scores the ranker's features are made
    from: one entry per candidate in each array."""

    items: np.ndarray  # unit numbers
    rrf: np.ndarray
    bm25_q: np.ndarray  # BM25 on the question field, divided by this query's best (0 where not found)
    bm25_b: np.ndarray
    dense_q: np.ndarray  # cosine of the query with the unit's question vector (0 without vectors)
    dense_b: np.ndarray
    dense_q_gap: np.ndarray  # how far below this query's best dense_q (0 = the best; 1 without vectors)
    dense_b_gap: np.ndarray
    ranks: np.ndarray  # (n, 4) place in each list (bm25_q, bm25_b, dense_q, dense_b), PER_LIST where absent

    def __len__(self) -> int:
        return len(self.items)

    def first(self, n: int) -> Candidates:
        return Candidates(*(getattr(self, name)[:n] for name in self.__slots__))


NO_CANDIDATES = Candidates(np.zeros(0, dtype=np.int64), *(np.zeros(0) for _ in range(7)),
                           np.zeros((0, 4), dtype=np.int64))


class UnitIndex:
    """BM25 over units' question and body texts, and their vectors when an encoder is given."""

    def __init__(self, units: list[QAPair], group_codes: dict[str, int], cache: TextCache,
                 vectors: tuple[np.ndarray, np.ndarray] | None = None):
        self.units = units
        self.groups = np.fromiter((group_codes[u.group] for u in units), dtype=np.int16, count=len(units))
        self.days = np.fromiter((u.date.toordinal() for u in units), dtype=np.int32, count=len(units))
        self.questions = TextIndex([question_text(u) for u in units], self.groups, cache)
        self.bodies = TextIndex([body_text(u) for u in units], self.groups, cache)
        self.q_vectors, self.b_vectors = vectors if vectors is not None else (None, None)

    def __len__(self) -> int:
        return len(self.units)

    def mask(self, groups: Sequence[int] | None, before: dt.date | None) -> np.ndarray | None:
        """Units a query may see: of these groups, and of days strictly before `before`."""
        if groups is None and before is None:
            return None
        keep = np.ones(len(self.units), dtype=bool)
        if groups is not None:
            chosen = np.zeros(int(self.groups.max(initial=0)) + 1, dtype=bool)
            chosen[[g for g in groups if 0 <= g < len(chosen)]] = True
            keep &= chosen[self.groups]
        if before is not None:
            keep &= self.days < before.toordinal()
        return keep

    def _bm25(self, index: TextIndex, words, mask) -> dict[int, float]:
        doc_ids, scores = index.top(words, PER_LIST, item_mask=mask)
        best = float(scores[0]) if len(scores) else 1.0
        latest = index.latest(doc_ids, mask).tolist()  # the latest copy of a repeated text
        return {item: s / best for item, s in zip(latest, scores.tolist()) if item >= 0}

    def _dense(self, vectors: np.ndarray | None, query: np.ndarray | None, mask) -> np.ndarray | None:
        if vectors is None or query is None or not len(vectors):
            return None
        sims = vectors @ query
        if mask is not None:
            sims = np.where(mask, sims, -1.0)
        return sims

    def candidates(self, words: Sequence[str], query_vector: np.ndarray | None = None,
                   groups: Sequence[int] | None = None, before: dt.date | None = None) -> Candidates:
        """Fused candidates, best RRF first."""
        if not self.units:
            return NO_CANDIDATES
        mask = self.mask(groups, before)
        lists: list[list[int]] = []
        bm25_q = self._bm25(self.questions, words, mask) if words else {}
        bm25_b = self._bm25(self.bodies, words, mask) if words else {}
        lists += [list(bm25_q), list(bm25_b)]
        dense = [self._dense(v, query_vector, mask) for v in (self.q_vectors, self.b_vectors)]
        for sims in dense:
            if sims is not None:
                top = np.argpartition(-sims, min(PER_LIST, len(sims) - 1))[:PER_LIST]
                top = top[sims[top] > -1.0]
                lists.append([int(i) for i in top[np.argsort(-sims[top], kind="stable")]])
        rrf: dict[int, float] = {}
        for ranked in lists:
            for rank, item in enumerate(ranked):
                rrf[item] = rrf.get(item, 0.0) + 1.0 / (RRF_K + rank)
        if not rrf:
            return NO_CANDIDATES
        fused = list(rrf)
        order = np.argsort(-np.fromiter(rrf.values(), dtype=np.float64, count=len(rrf)), kind="stable")
        found = [fused[i] for i in order.tolist()]  # best first; a tie keeps the lists' order
        items = np.asarray(found, dtype=np.int64)
        places = [{item: rank for rank, item in enumerate(ranked)} for ranked in lists]
        places += [{}] * (4 - len(places))
        cosines, gaps = [], []  # of the question vectors, then of the body vectors
        for sims in dense:
            if sims is None:
                cosines.append(np.zeros(len(items)))
                gaps.append(np.ones(len(items)))
            else:
                cosines.append(sims[items].astype(np.float64))
                gaps.append((float(sims.max()) if len(sims) else 0.0) - cosines[-1])
        return Candidates(items, np.asarray([rrf[i] for i in found]), np.asarray([bm25_q.get(i, 0.0) for i in found]),
                          np.asarray([bm25_b.get(i, 0.0) for i in found]), *cosines, *gaps,
                          np.asarray([[p.get(i, PER_LIST) for p in places] for i in found], dtype=np.int64))


def unit_texts(units: list[QAPair]) -> tuple[list[int], list[str], list[int], list[str]]:
    """(units with a body vector, their bodies, units whose question has a vector of its own,
    their questions). Windows have none: they overlap the other units and would double the
    encoding; BM25 finds them."""
    bodied = [i for i, u in enumerate(units) if u.kind != "window"]
    asks = [i for i, u in enumerate(units) if u.kind in VECTOR_KINDS]
    return bodied, [body_text(units[i]) for i in bodied], asks, [question_text(units[i]) for i in asks]


def unit_vectors(units: list[QAPair], encode) -> tuple[np.ndarray, np.ndarray]:
    """(question vectors, body vectors) of the units from `encode(texts) -> matrix`; talks reuse the
    body vector as their question vector; windows' rows are zero (no dense match)."""
    bodied, bodies, asks, questions = unit_texts(units)
    every = np.asarray(encode(bodies + questions), dtype=np.float32)
    dim = every.shape[1] if every.ndim == 2 and every.shape[1] else 384
    b_vectors = np.zeros((len(units), dim), dtype=np.float32)
    b_vectors[bodied] = every[:len(bodied)]
    q_vectors = b_vectors.copy()
    q_vectors[asks] = every[len(bodied):]
    return q_vectors, b_vectors
