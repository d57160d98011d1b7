"""Fitting the ranker (bot.qa.ranker) on the DEV splits only, and writing bot/data/ranker.json.

Called by `bench/quality.py --fit`. For every dev question, every fused candidate is a row of
features labelled right (it covers a labelled message) or wrong; a logistic regression
(scikit-learn) over the standardised features gives the probability. The answer threshold is the
lowest probability at which the dev answers are right at least TARGET_PRECISION of the time (a
margin over the 85% the bot promises); the figures on the held-out TEST splits are computed with
the fitted model and written beside the weights, so the file says what it was checked on.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np

from bot.qa.engine import MIN_ANSWER_WORDS
from bot.qa.mining import LEANS_ON_CONTEXT
from bench.quality import unprompted_to_member
from bot.qa.ranker import FEATURES, Model

OUT = Path(__file__).resolve().parent.parent / "bot" / "data" / "ranker.json"
TARGET_PRECISION = 0.9
SUGGEST_PRECISION = 0.4
# Without an encoder, lexical features say little about vocabulary-changing paraphrases and a free
# fit learns noise; the lexical model is a hand-set direction (how much of the question's meaning
# the unit holds, as in the engine before) with only its scale and offset fitted.
LEXICAL_DIRECTION = {"cover_query": 3.0, "cover_doc": 1.0, "partial": 2.0, "token_set": 1.0, "rare_agree": 1.0,
                     "bm25_q": 1.0, "query_info": 2.0, "asks": 0.5, "stands_alone": 0.5, "few_words": -1.0}
C = 0.5  # L2 strength of the logistic regression (smaller = stronger)


def seed() -> Model:
    """The order candidates are gathered in before any fit: the retrievers' own scores."""
    coef = np.array([1.0 if f in ("bm25_q", "bm25_b", "dense_q", "dense_b", "cover_query") else 0.0 for f in FEATURES])
    return Model(FEATURES, np.zeros(len(FEATURES)), np.ones(len(FEATURES)), coef, 0.0, 0.99, 0.5)


def _collect(engine, rows, is_right):
    """Per question: (features of every candidate, labels, gates passed by its best unit)."""
    out = []
    for row in rows:
        scored = engine.scored(row["query"], before=row["before"])
        x = np.stack([f for _, _, f in scored]) if scored else np.zeros((0, len(FEATURES)))
        y = np.array([row["answerable"] and is_right(u, row) for u, _, _ in scored], dtype=bool)
        says_enough = (len(set(engine._query(row["query"]))) >= MIN_ANSWER_WORDS
                       and not LEANS_ON_CONTEXT.search(row["query"]) and not unprompted_to_member(row))
        out.append((row, [u for u, _, _ in scored], x, y, says_enough))
    return out


def _verdicts(model: Model, collected) -> list[tuple[float, bool, bool, bool]]:
    """(top probability, top right, gates passed, answerable) per question under the model."""
    out = []
    for row, units, x, y, says_enough in collected:
        if not len(x):
            out.append((0.0, False, False, row["answerable"]))
            continue
        probs = model.probability(x)
        best = int(np.argmax(probs))
        out.append((float(probs[best]), bool(y[best]), says_enough and units[best].stands_alone, row["answerable"]))
    return out


def _threshold(verdicts, precision: float) -> float:
    for t in np.arange(0.20, 0.995, 0.01):
        answered = [(right) for p, right, gate, _ in verdicts if gate and p >= t]
        if answered and sum(answered) / len(answered) >= precision and len(answered) >= 3:
            return round(float(t), 2)
    return 0.99


def _summary(verdicts, threshold: float) -> dict:
    answerable = sum(1 for v in verdicts if v[3])
    none = len(verdicts) - answerable
    answered = [v for v in verdicts if v[2] and v[0] >= threshold]
    right = sum(1 for v in answered if v[1])
    return {"questions": len(verdicts), "answerable": answerable, "answered": len(answered),
            "answered_right": round(right / max(answerable, 1), 3),
            "precision": round(right / len(answered), 3) if answered else None,
            "false_on_none": round(sum(1 for v in answered if not v[3]) / max(none, 1), 3)}


def fit_model(engine, dev, test, is_right, direction: dict | None = None) -> tuple[Model, dict]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    train = _collect(engine, dev, is_right)
    x = np.concatenate([c[2] for c in train])
    y = np.concatenate([c[3] for c in train])
    if direction is None:
        scaler = StandardScaler().fit(x)
        scale = np.where(scaler.scale_ > 1e-9, scaler.scale_, 1.0)
        clf = LogisticRegression(C=C, max_iter=5000).fit((x - scaler.mean_) / scale, y)
        model = Model(FEATURES, scaler.mean_, scale, clf.coef_[0], float(clf.intercept_[0]), 0.99, 0.5)
    else:  # Platt scaling of a hand-set direction: two numbers fitted, hard to overfit
        w = np.array([direction.get(f, 0.0) for f in FEATURES])
        clf = LogisticRegression(C=100.0, max_iter=5000).fit((x @ w)[:, None], y)
        model = Model(FEATURES, np.zeros(len(FEATURES)), np.ones(len(FEATURES)), clf.coef_[0][0] * w,
                      float(clf.intercept_[0]), 0.99, 0.5)
    dev_verdicts = _verdicts(model, train)
    for t in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9):
        print(f"  dev at {t}: {_summary(dev_verdicts, t)}")
    answer_at = _threshold(dev_verdicts, TARGET_PRECISION)
    suggest_at = min(answer_at, _threshold(dev_verdicts, SUGGEST_PRECISION))
    model = Model(FEATURES, model.mean, model.scale, model.coef, model.intercept, answer_at, suggest_at)
    held_out = {}
    for name in sorted({r["set"] for r in test}):
        held_out[name] = _summary(_verdicts(model, _collect(engine, [r for r in test if r["set"] == name], is_right)),
                                  answer_at)
    info = {"fitted": dt.date.today().isoformat(), "candidates": int(len(y)), "positives": int(y.sum()),
            "dev": _summary(dev_verdicts, answer_at), "test": held_out}
    return model, info


def fit(engines: dict, rows: list[dict], is_right) -> None:
    dev = [r for r in rows if r["split"] == "dev"]
    test = [r for r in rows if r["split"] == "test"]
    data = json.loads(OUT.read_text(encoding="utf-8")) if OUT.exists() else {"models": {}}
    for name, engine in engines.items():
        model, info = fit_model(engine, dev, test, is_right, LEXICAL_DIRECTION if name == "lexical" else None)
        engine.ranker = model
        data["models"][name] = {**model.to_json(), "figures": info}
        print(f"{name}: answer >= {model.answer_threshold}, suggest >= {model.suggest_threshold}")
        print(json.dumps(info, indent=1))
        print("weights:", ", ".join(f"{f}={w:+.2f}" for f, w in zip(FEATURES, model.coef)))
    OUT.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")
