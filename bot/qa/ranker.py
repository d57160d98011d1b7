"""One calibrated score per candidate: a listwise order over features of both retrievers, then a verdict.

The features describe a candidate the way the two retrievers and a reader see it: dense cosines of
the query with the unit's question and body (and how far below the query's best they are), BM25 on
both fields and the candidate's place in each retriever's list, agreement on the query's rarest
words, rapidfuzz scores, and the unit's own quality (answers, length, whether its question stands
alone and asks at all, its kind). Two fitted parts (bot/qa/fit.py, on the dev splits only, by
`bench/quality.py --fit`; the nightly refit in bot/refit.py uses the same code):
- the order: weights over the standardised features, fitted listwise (which candidate of a
  question is the right one), so the order users see is learned from the order that was right;
- the verdict: a logistic model over the order score and how much the question says, fitted on
  out-of-fold scores, giving how often a first place like this one is right.
The probability is increasing in the order score, so it orders the candidates the user sees and
decides the verdict: answer at or above the model's threshold (chosen on dev so that answers are
right at least 85% of the time), related discussions above the suggest threshold, else silence.
Two models ship in bot/data/ranker.json: "hybrid" (with an encoder) and "lexical" (without one).
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from importlib import resources

import numpy as np
from rapidfuzz import fuzz

from bot.qa.index import TextIndex
from bot.qa.mining import QAPair, asks
from bot.qa.retrieval import Candidate, UnitIndex
from bot.qa.scoring import INFO_FULL

FEATURES = ("dense_q", "dense_b", "dense_q_gap", "dense_b_gap", "bm25_q", "bm25_b", "rrf",
            "cover_query", "cover_doc", "cover_body", "rare_agree", "token_set", "partial", "query_info",
            "answers", "answer_chars", "stands_alone", "asks", "chain", "passage", "window", "few_words",
            "place_bm25_q", "place_bm25_b", "place_dense_q", "place_dense_b")
KINDS = ("chain", "passage", "window")  # one-hot against the exchange


@dataclass(frozen=True, slots=True)
class Query:
    """A question prepared once for scoring many candidates."""

    words: tuple[str, ...]
    segmented: str
    content: str
    rare: tuple[str, ...]  # its two rarest words


def prepare(words: tuple[str, ...], index: TextIndex) -> Query:
    unique = list(dict.fromkeys(words))
    rare = tuple(sorted(unique, key=lambda w: -index.word_idf(w))[:2])
    return Query(tuple(words), " ".join(words), "".join(words), rare)


def features(query: Query, cand: Candidate, units: UnitIndex) -> np.ndarray:
    """The FEATURES of one candidate, in order."""
    unit: QAPair = units.units[cand.item]
    qi, bi = units.questions, units.bodies
    q_doc = qi.docs[qi.item_doc[cand.item]]
    b_doc = bi.docs[bi.item_doc[cand.item]]
    idf = bi.word_idf
    q_words, d_words, b_words = set(query.words), set(q_doc.words), set(b_doc.words)
    q_mass = math.fsum(idf(w) for w in q_words) or 1.0  # fsum: the same whatever order a set iterates in
    shared = q_words & d_words
    shared_mass = math.fsum(idf(w) for w in shared)
    d_mass = math.fsum(idf(w) for w in d_words) or 1.0
    rare_agree = sum(w in b_words for w in query.rare) / len(query.rare) if query.rare else 0.0
    content = q_doc.content
    answer_chars = sum(len(m.text) for m in unit.answers if m.speaker != unit.asker)
    answers = sum(1 for m in unit.answers if m.speaker != unit.asker)
    values = [
        cand.dense_q, cand.dense_b, cand.dense_q_gap, cand.dense_b_gap, cand.bm25_q, cand.bm25_b, cand.rrf * 60,
        shared_mass / q_mass, shared_mass / d_mass, math.fsum(idf(w) for w in q_words & b_words) / q_mass, rare_agree,
        fuzz.token_set_ratio(query.segmented, q_doc.segmented) / 100.0,
        fuzz.partial_ratio(query.content, content) / 100.0 if len(query.content) > 1 else 0.0,
        min(q_mass / bi.max_idf, INFO_FULL) / INFO_FULL,
        math.log1p(answers), math.log1p(answer_chars) / 6.0, float(unit.stands_alone), float(asks(unit.question_text)),
        *(float(unit.kind == k) for k in KINDS),
        float(len(d_words) < 3),
        *(math.log1p(place) for place in cand.ranks),
    ]
    return np.asarray(values, dtype=np.float64)


@dataclass(frozen=True, slots=True)
class Model:
    """The fitted order weights over standardised features, the verdict over the order score, and
    the thresholds on the verdict's probability."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray  # the order: score = ((row - mean) / scale) @ coef
    verdict: tuple[float, float, float]  # intercept, weight of the score (kept > 0), weight of query_info
    answer_threshold: float
    suggest_threshold: float

    def order(self, rows: np.ndarray) -> np.ndarray:
        return ((rows - self.mean) / self.scale) @ self.coef if len(rows) else np.zeros(0)

    def probability(self, rows: np.ndarray) -> np.ndarray:
        """How often a first place with these features is the right answer (increasing in order())."""
        if not len(rows):
            return np.zeros(0)
        return self.calibrated(self.order(rows), rows[:, self.features.index("query_info")])

    def calibrated(self, scores: np.ndarray, query_info: np.ndarray) -> np.ndarray:
        """The verdict's probability for order scores (and how much the question says)."""
        intercept, on_score, on_info = self.verdict
        return 1.0 / (1.0 + np.exp(-np.clip(intercept + on_score * scores + on_info * query_info, -60, 60)))

    def with_thresholds(self, answer: float, suggest: float) -> Model:
        return Model(self.features, self.mean, self.scale, self.coef, self.verdict, answer, suggest)

    def to_json(self) -> dict:
        return {"features": list(self.features), "mean": self.mean.round(6).tolist(),
                "scale": self.scale.round(6).tolist(), "coef": self.coef.round(6).tolist(),
                "verdict": [round(v, 6) for v in self.verdict],
                "answer_threshold": self.answer_threshold, "suggest_threshold": self.suggest_threshold}

    @classmethod
    def from_json(cls, data: dict) -> Model:
        if tuple(data["features"]) != FEATURES or "verdict" not in data:
            raise ValueError("ranker.json was fitted on other features: refit with bench/quality.py --fit")
        intercept, on_score, on_info = (float(v) for v in data["verdict"])
        return cls(tuple(data["features"]), np.asarray(data["mean"]), np.asarray(data["scale"]),
                   np.asarray(data["coef"]), (intercept, on_score, on_info), float(data["answer_threshold"]),
                   float(data["suggest_threshold"]))


@functools.lru_cache(maxsize=1)
def shipped() -> dict:
    """bot/data/ranker.json: the models and the figures they were fitted and checked on."""
    return json.loads(resources.files("bot").joinpath("data", "ranker.json").read_text(encoding="utf-8"))


def model(name: str) -> Model:
    """The shipped "hybrid" or "lexical" model."""
    return Model.from_json(shipped()["models"][name])
