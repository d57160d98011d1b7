"""The ranker's features of a question's fused candidates: one row per candidate, made together.

What a feature says is described in bot.qa.ranker. This module only makes them fast without
changing a bit of them, because the shipped ranker was fitted on exactly these values:
- the question's own values (its distinct words, their IDF, its IDF mass, its two rarest words)
  are computed once per question, not once per candidate;
- what a unit is regardless of the question (answers, their length, stands-alone, asks, kind, how
  many words its question has and their IDF mass, its question's joined forms) is kept per index
  snapshot (`UnitFacts`), computed the first time the unit is a candidate;
- whether a candidate holds a question word is read from the word's BM25 postings, not from a set
  of the candidate's words made for each question;
- IDF masses stay `math.fsum` sums (exactly rounded, so the same whatever order a set iterates
  in) and logarithms stay `math.log1p`, so every value is the float the one-candidate-at-a-time
  definition gives (tests/test_qa_features.py keeps that definition and compares).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import compress

import numpy as np
from rapidfuzz import fuzz

from bot.qa.index import TextIndex
from bot.qa.mining import asks
from bot.qa.retrieval import PER_LIST, Candidates, UnitIndex
from bot.qa.scoring import INFO_FULL

FEATURES = ("dense_q", "dense_b", "dense_q_gap", "dense_b_gap", "bm25_q", "bm25_b", "rrf",
            "cover_query", "cover_doc", "cover_body", "rare_agree", "token_set", "partial", "query_info",
            "answers", "answer_chars", "stands_alone", "asks", "chain", "passage", "window", "few_words",
            "place_bm25_q", "place_bm25_b", "place_dense_q", "place_dense_b")
KINDS = ("chain", "passage", "window")  # one-hot against the exchange
UNIT_FEATURES = ("answers", "answer_chars", "stands_alone", "asks", "chain", "passage", "window", "few_words")
_COLUMN = {name: i for i, name in enumerate(FEATURES)}
_UNIT_COLUMNS = [_COLUMN[name] for name in UNIT_FEATURES]
_PLACE_COLUMNS = [_COLUMN[name] for name in ("place_bm25_q", "place_bm25_b", "place_dense_q", "place_dense_b")]
_PLACE_LOG = np.asarray([math.log1p(place) for place in range(PER_LIST + 1)])  # ranks run 0..PER_LIST


@dataclass(frozen=True, slots=True)
class Query:
    """A question prepared once for scoring many candidates."""

    words: tuple[str, ...]
    segmented: str
    content: str
    rare: tuple[str, ...]  # its two rarest words
    distinct: tuple[str, ...]  # its words once each, in order
    idf: tuple[float, ...]  # the IDF (over unit bodies) of each distinct word
    mass: float  # their sum, or 1.0 when it has no words
    info: float  # how much the question says, in [0, 1] (the query_info feature)


def prepare(words: tuple[str, ...], index: TextIndex) -> Query:
    """The question's words with what every candidate compares them by; `index` gives the IDF."""
    distinct = tuple(dict.fromkeys(words))
    idf = tuple(index.word_idf(w) for w in distinct)
    by_word = dict(zip(distinct, idf))
    rare = tuple(sorted(distinct, key=lambda w: -by_word[w])[:2])
    mass = math.fsum(idf) or 1.0  # fsum: the same whatever order a set iterates in
    return Query(tuple(words), " ".join(words), "".join(words), rare, distinct, idf, mass,
                 min(mass / index.max_idf, INFO_FULL) / INFO_FULL)


class UnitFacts:
    """What each unit of one index snapshot is, whatever the question: kept after its first use.

    Filled lazily (a start computes nothing; a unit that is never a candidate costs nothing) and
    only ever with the same values, the flag last, so threads reading and filling it at once need
    no lock.
    """

    def __init__(self, units: UnitIndex):
        self.units = units
        self.values = np.zeros((len(units), len(UNIT_FEATURES)))  # the UNIT_FEATURES of each unit
        self.masses = np.ones(len(units))  # the IDF mass of each unit's question words
        self.texts: list[tuple[str, str] | None] = [None] * len(units)  # its question segmented, and as content
        self.known = np.zeros(len(units), dtype=bool)

    def fill(self, items: np.ndarray) -> None:
        """Make sure these units' facts are known."""
        for item in np.unique(items[~self.known[items]]).tolist():
            self._fill(item)

    def _fill(self, item: int) -> None:
        units = self.units
        unit = units.units[item]
        words = units.questions.docs[units.questions.item_doc[item]].words
        distinct = set(words)
        idf = units.bodies.word_idf
        asker = unit.asker
        answers = [m for m in unit.answers if m.speaker != asker]
        self.values[item] = [math.log1p(len(answers)), math.log1p(sum(len(m.text) for m in answers)) / 6.0,
                             float(unit.stands_alone), float(asks(unit.question_text)),
                             *(float(unit.kind == k) for k in KINDS), float(len(distinct) < 3)]
        self.masses[item] = math.fsum(idf(w) for w in distinct) or 1.0
        self.texts[item] = (" ".join(words), "".join(words))
        self.known[item] = True


def _masses(idf: tuple[float, ...], held: np.ndarray) -> list[float]:
    """For each row of `held` (candidates x distinct query words), the IDF mass of the words it holds."""
    return [math.fsum(compress(idf, row)) for row in held.tolist()]


def rows(query: Query, cands: Candidates, units: UnitIndex, facts: UnitFacts) -> np.ndarray:
    """The FEATURES of each candidate, one row each, in the candidates' order."""
    out = np.empty((len(cands), len(FEATURES)), dtype=np.float64)
    if not len(cands):
        return out
    items = cands.items
    facts.fill(items)
    texts = [facts.texts[i] for i in items.tolist()]
    q_docs, b_docs = units.questions.item_doc[items], units.bodies.item_doc[items]
    in_question = np.zeros((len(cands), len(query.distinct)), dtype=bool)
    in_body = np.zeros((len(cands), len(query.distinct)), dtype=bool)
    for j, word in enumerate(query.distinct):
        in_question[:, j] = units.questions.holding(word, q_docs)
        in_body[:, j] = units.bodies.holding(word, b_docs)
    shared_mass = np.asarray(_masses(query.idf, in_question))
    rare = [query.distinct.index(w) for w in query.rare]
    columns = {
        "dense_q": cands.dense_q, "dense_b": cands.dense_b, "dense_q_gap": cands.dense_q_gap,
        "dense_b_gap": cands.dense_b_gap, "bm25_q": cands.bm25_q, "bm25_b": cands.bm25_b, "rrf": cands.rrf * 60,
        "cover_query": shared_mass / query.mass,
        "cover_doc": shared_mass / facts.masses[items],
        "cover_body": np.asarray(_masses(query.idf, in_body)) / query.mass,
        "rare_agree": in_body[:, rare].sum(axis=1) / len(rare) if rare else 0.0,
        "token_set": [fuzz.token_set_ratio(query.segmented, segmented) / 100.0 for segmented, _ in texts],
        "partial": [fuzz.partial_ratio(query.content, content) / 100.0 for _, content in texts]
                   if len(query.content) > 1 else 0.0,
        "query_info": query.info,
    }
    for name, values in columns.items():
        out[:, _COLUMN[name]] = values
    out[:, _UNIT_COLUMNS] = facts.values[items]
    out[:, _PLACE_COLUMNS] = _PLACE_LOG[cands.ranks]
    return out
