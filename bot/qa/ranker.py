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
The features themselves are made by bot.qa.features.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources

import numpy as np

from bot.qa.features import FEATURES


@dataclass(frozen=True, slots=True)
class Model:
    """The fitted order weights over standardised features, the verdict over the order score, and
    the thresholds on the verdict's probability."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray  # the order: score = ((row - mean) / scale) @ coef
    # intercept, weights of the order score and of its lead over the next discussion (both kept > 0, so
    # the probability orders discussions as the score does), weight of query_info
    verdict: tuple[float, float, float, float]
    answer_threshold: float
    suggest_threshold: float

    def order(self, rows: np.ndarray) -> np.ndarray:
        return ((rows - self.mean) / self.scale) @ self.coef if len(rows) else np.zeros(0)

    def probability(self, rows: np.ndarray, discussions: np.ndarray | None = None) -> np.ndarray:
        """How often a first place with these features is the right answer. `discussions` numbers the
        candidates that are one discussion (units starting at the same line); by default each is its own."""
        if not len(rows):
            return np.zeros(0)
        scores = self.order(rows)
        return self.calibrated(scores, lead(scores, discussions), rows[:, self.features.index("query_info")])

    def calibrated(self, scores: np.ndarray, leads: np.ndarray, query_info: np.ndarray) -> np.ndarray:
        """The verdict's probability for order scores, their leads, and how much the question says."""
        intercept, on_score, on_lead, on_info = self.verdict
        z = intercept + on_score * scores + on_lead * leads + on_info * query_info
        return 1.0 / (1.0 + np.exp(-np.clip(z, -60, 60)))

    def with_thresholds(self, answer: float, suggest: float) -> Model:
        return Model(self.features, self.mean, self.scale, self.coef, self.verdict, answer, suggest)

    def to_json(self) -> dict:
        return {"features": list(self.features), "mean": self.mean.round(6).tolist(),
                "scale": self.scale.round(6).tolist(), "coef": self.coef.round(6).tolist(),
                "verdict": [round(v, 6) for v in self.verdict],
                "answer_threshold": self.answer_threshold, "suggest_threshold": self.suggest_threshold}

    @classmethod
    def from_json(cls, data: dict) -> Model:
        if tuple(data["features"]) != FEATURES or len(data.get("verdict", ())) != 4:
            raise ValueError("ranker.json was fitted on other features: refit with bench/quality.py --fit")
        intercept, on_score, on_lead, on_info = (float(v) for v in data["verdict"])
        return cls(tuple(data["features"]), np.asarray(data["mean"]), np.asarray(data["scale"]),
                   np.asarray(data["coef"]), (intercept, on_score, on_lead, on_info), float(data["answer_threshold"]),
                   float(data["suggest_threshold"]))


LEAD_CAP = 4.0  # a lead this large (in order-score units) is as sure as a lead gets; also the lead of a lone discussion


def lead(scores: np.ndarray, discussions: np.ndarray | None = None) -> np.ndarray:
    """Each candidate's order score minus the best score of any other discussion, within +-LEAD_CAP:
    a first place far ahead of the next discussion is more often right than one in a near tie.
    Increasing in the candidate's own score, so it keeps the order of discussions."""
    if discussions is None:
        discussions = np.arange(len(scores))
    out = np.full(len(scores), LEAD_CAP)
    present, number = np.unique(discussions, return_inverse=True)
    if len(present) > 1:
        best = np.full(len(present), -np.inf)  # each discussion's best score
        np.maximum.at(best, number, scores)
        first, second = np.argsort(-best, kind="stable")[:2]
        out = scores - np.where(number == first, best[second], best[first])  # the best of the others
    return np.clip(out, -LEAD_CAP, LEAD_CAP)


def discussion_numbers(units) -> np.ndarray:
    """The same number for units that start at the same archived line: one discussion."""
    seen: dict[tuple, int] = {}
    return np.fromiter((seen.setdefault((u.group, u.date, u.first.time), len(seen)) for u in units),
                       dtype=np.int64, count=len(units))


@functools.lru_cache(maxsize=1)
def shipped() -> dict:
    """bot/data/ranker.json: the models and the figures they were fitted and checked on."""
    return json.loads(resources.files("bot").joinpath("data", "ranker.json").read_text(encoding="utf-8"))


def model(name: str) -> Model:
    """The shipped "hybrid" or "lexical" model."""
    return Model.from_json(shipped()["models"][name])
