"""One calibrated score per candidate: a logistic model over features of both retrievers.

The features describe a candidate the way the two retrievers and a reader see it: dense cosines of
the query with the unit's question and body (and how far below the query's best they are), BM25 on
both fields, agreement on the query's rarest words, rapidfuzz scores, and the unit's own quality
(answers, length, whether its question stands alone and asks at all, its kind). The weights are fitted on the dev
splits of the evaluation sets by `bench/quality.py --fit` and shipped in bot/data/ranker.json with
the held-out figures they were checked on. The probability orders the candidates the user sees and
decides the verdict: answer at or above the model's threshold (chosen on dev so that answers are
right at least 85% of the time), related discussions above the suggest threshold, else silence.
Two models ship: "hybrid" (with an encoder) and "lexical" (without one).
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
            "answers", "answer_chars", "stands_alone", "asks", "chain", "passage", "window", "few_words")
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
    q_mass = sum(idf(w) for w in q_words) or 1.0
    shared = q_words & d_words
    shared_mass = sum(idf(w) for w in shared)
    d_mass = sum(idf(w) for w in d_words) or 1.0
    rare_agree = sum(w in b_words for w in query.rare) / len(query.rare) if query.rare else 0.0
    content = q_doc.content
    answer_chars = sum(len(m.text) for m in unit.answers if m.speaker != unit.asker)
    answers = sum(1 for m in unit.answers if m.speaker != unit.asker)
    values = [
        cand.dense_q, cand.dense_b, cand.dense_q_gap, cand.dense_b_gap, cand.bm25_q, cand.bm25_b, cand.rrf * 60,
        shared_mass / q_mass, shared_mass / d_mass, sum(idf(w) for w in q_words & b_words) / q_mass, rare_agree,
        fuzz.token_set_ratio(query.segmented, q_doc.segmented) / 100.0,
        fuzz.partial_ratio(query.content, content) / 100.0 if len(query.content) > 1 else 0.0,
        min(q_mass / bi.max_idf, INFO_FULL) / INFO_FULL,
        math.log1p(answers), math.log1p(answer_chars) / 6.0, float(unit.stands_alone), float(asks(unit.question_text)),
        *(float(unit.kind == k) for k in KINDS),
        float(len(d_words) < 3),
    ]
    return np.asarray(values, dtype=np.float64)


@dataclass(frozen=True, slots=True)
class Model:
    """A fitted logistic model over standardised features, with its verdict thresholds."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    answer_threshold: float
    suggest_threshold: float

    def probability(self, rows: np.ndarray) -> np.ndarray:
        if not len(rows):
            return np.zeros(0)
        z = self.intercept + ((rows - self.mean) / self.scale) @ self.coef
        return 1.0 / (1.0 + np.exp(-np.clip(z, -60, 60)))

    def to_json(self) -> dict:
        return {"features": list(self.features), "mean": self.mean.round(6).tolist(),
                "scale": self.scale.round(6).tolist(), "coef": self.coef.round(6).tolist(),
                "intercept": round(self.intercept, 6), "answer_threshold": self.answer_threshold,
                "suggest_threshold": self.suggest_threshold}

    @classmethod
    def from_json(cls, data: dict) -> Model:
        if tuple(data["features"]) != FEATURES:
            raise ValueError("ranker.json was fitted on other features: refit with bench/quality.py --fit")
        return cls(tuple(data["features"]), np.asarray(data["mean"]), np.asarray(data["scale"]),
                   np.asarray(data["coef"]), float(data["intercept"]), float(data["answer_threshold"]),
                   float(data["suggest_threshold"]))


@functools.lru_cache(maxsize=1)
def shipped() -> dict:
    """bot/data/ranker.json: the models and the figures they were fitted and checked on."""
    return json.loads(resources.files("bot").joinpath("data", "ranker.json").read_text(encoding="utf-8"))


def model(name: str) -> Model:
    """The shipped "hybrid" or "lexical" model."""
    return Model.from_json(shipped()["models"][name])
