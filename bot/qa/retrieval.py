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
class Candidate:
    """One fused candidate and the raw scores the ranker's features are made from."""

    item: int  # unit number
    rrf: float
    bm25_q: float = 0.0  # BM25 on the question field, divided by this query's best
    bm25_b: float = 0.0
    dense_q: float = 0.0  # cosine of the query with the unit's question vector
    dense_b: float = 0.0
    dense_q_gap: float = 1.0  # how far below this query's best dense_q (0 = the best)
    dense_b_gap: float = 1.0
    ranks: tuple[int, int, int, int] = (PER_LIST,) * 4  # place in each list (bm25_q, bm25_b, dense_q, dense_b)


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
            keep &= np.isin(self.groups, np.asarray(groups, dtype=np.int16))
        if before is not None:
            keep &= self.days < before.toordinal()
        return keep

    def _bm25(self, index: TextIndex, words, mask) -> dict[int, float]:
        doc_ids, scores = index.top(words, PER_LIST, item_mask=mask)
        best = float(scores[0]) if len(scores) else 1.0
        found: dict[int, float] = {}
        for d, s in zip(doc_ids, scores):
            items = index.items(int(d), item_mask=mask)
            if len(items):
                found[int(items[-1])] = float(s) / best  # the latest copy of a repeated text
        return found

    def _dense(self, vectors: np.ndarray | None, query: np.ndarray | None, mask) -> np.ndarray | None:
        if vectors is None or query is None or not len(vectors):
            return None
        sims = vectors @ query
        if mask is not None:
            sims = np.where(mask, sims, -1.0)
        return sims

    def candidates(self, words: Sequence[str], query_vector: np.ndarray | None = None,
                   groups: Sequence[int] | None = None, before: dt.date | None = None) -> list[Candidate]:
        """Fused candidates, best RRF first."""
        if not self.units:
            return []
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
        best = [float(s.max()) if s is not None and len(s) else 0.0 for s in dense]
        places = [{item: rank for rank, item in enumerate(ranked)} for ranked in lists]
        places += [{}] * (4 - len(places))
        out = []
        for item, score in rrf.items():
            dq = float(dense[0][item]) if dense[0] is not None else 0.0
            db = float(dense[1][item]) if dense[1] is not None else 0.0
            out.append(Candidate(item, score, bm25_q.get(item, 0.0), bm25_b.get(item, 0.0), dq, db,
                                 best[0] - dq if dense[0] is not None else 1.0,
                                 best[1] - db if dense[1] is not None else 1.0,
                                 tuple(p.get(item, PER_LIST) for p in places)))
        out.sort(key=lambda c: -c.rrf)
        return out


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
