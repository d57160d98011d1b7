"""Fitting the ranker's two parts with numpy alone, so the nightly refit can run wherever the bot runs.

The order model is listwise: for each question it makes the labelled-right candidates likely under
a softmax over all of that question's candidates (a conditional logit). Only differences between
candidates of one question matter to it, so it learns what puts the right unit above the others,
not how easy a question was; with a few hundred labelled questions this is far better conditioned
than a logistic model over every candidate pooled. The verdict model is a small logistic regression
over how the question's best candidate stands (its order score, its lead over the next discussion,
how much the question says):
it says how often that first place is right, which is what the answer threshold needs.
Both are maximised by Newton's method with an L2 penalty (the objectives are concave).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

Group = tuple[np.ndarray, np.ndarray]  # (standardised features of one question's candidates, right flags)


def _newton(objective, dim: int, steps: int = 60) -> np.ndarray:
    """Maximise a concave objective(w) -> (value, gradient, hessian) from w = 0, with backtracking."""
    w = np.zeros(dim)
    value, grad, hess = objective(w)
    for _ in range(steps):
        step = np.linalg.solve(-hess, grad)
        size = 1.0
        while size > 1e-6:
            trial = w + size * step
            new = objective(trial)
            if new[0] >= value - 1e-12:
                break
            size /= 2
        else:
            break
        done = abs(new[0] - value) < 1e-9 * max(1.0, abs(value))
        w, (value, grad, hess) = trial, new
        if done:
            break
    return w


def fit_order(groups: Sequence[Group], l2: float) -> np.ndarray:
    """Weights w maximising sum over questions and their right candidates i of log softmax(X w)_i,
    minus l2/2 |w|^2. Questions without a right candidate carry no information about order."""
    dim = groups[0][0].shape[1] if groups else 0
    groups = [(x, y) for x, y in groups if y.any() and len(x) > 1]

    def objective(w):
        value, grad, hess = -0.5 * l2 * w @ w, -l2 * w, -l2 * np.eye(dim)
        for x, y in groups:
            s = x @ w
            top = s.max()
            p = np.exp(s - top)
            total = p.sum()
            p /= total
            k = y.sum()
            mean = p @ x
            value += s[y].sum() - k * (top + np.log(total))
            grad += x[y].sum(axis=0) - k * mean
            hess -= k * ((x * p[:, None]).T @ x - np.outer(mean, mean))
        return value, grad, hess

    return _newton(objective, dim) if groups else np.zeros(dim)


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float) -> tuple[np.ndarray, float]:
    """(coefficients, intercept) of an L2-penalised logistic regression (the intercept unpenalised)."""
    design = np.hstack([x, np.ones((len(x), 1))])
    penalty = np.full(design.shape[1], l2)
    penalty[-1] = 0.0

    def objective(w):
        z = np.clip(design @ w, -60, 60)
        p = 1.0 / (1.0 + np.exp(-z))
        value = float(y @ z - np.logaddexp(0, z).sum()) - 0.5 * float(penalty @ (w * w))
        grad = design.T @ (y - p) - penalty * w
        hess = -(design * (p * (1 - p))[:, None]).T @ design - np.diag(penalty) - 1e-9 * np.eye(len(w))
        return value, grad, hess

    w = _newton(objective, design.shape[1])
    return w[:-1], float(w[-1])


def folds(n: int, k: int, seed: int = 7) -> list[np.ndarray]:
    """k disjoint index sets covering range(n), fixed by the seed."""
    order = np.random.default_rng(seed).permutation(n)
    return [order[i::k] for i in range(k)]


# ----- the whole fit: order, verdict and thresholds, from labelled questions -----

L2_CHOICES = (0.3, 1.0, 3.0, 10.0, 30.0)
FOLDS = 5
ANSWER_PRECISION = 0.9  # a margin over the 85% the bot promises
SUGGEST_PRECISION = 0.4  # related discussions: one of the three shown is right this often
MIN_ANSWERS = 3  # a threshold resting on fewer dev answers than this is no threshold


@dataclass(frozen=True, slots=True)
class Question:
    """One labelled question: its candidates' raw features and what is known about each."""

    rows: np.ndarray  # (candidates, features)
    right: np.ndarray  # bool per candidate: it covers a labelled answer
    alone: np.ndarray  # bool per candidate: its question stands alone (may be posted unprompted)
    says_enough: bool  # the question itself may be answered unprompted
    answerable: bool  # the question has a labelled answer at all
    discussions: np.ndarray | None = None  # candidates that are one discussion share a number (ranker.lead)


def _place_of_right(scores: np.ndarray, right: np.ndarray) -> int | None:
    order = np.argsort(-scores, kind="stable")
    hits = np.flatnonzero(right[order])
    return int(hits[0]) if len(hits) else None


def ranking_figures(questions: Sequence[Question], scores: Sequence[np.ndarray]) -> dict:
    """recall@1, recall@5 and MRR over the answerable questions, for the given candidate scores."""
    places = [_place_of_right(s, q.right) for q, s in zip(questions, scores) if q.answerable]
    n = max(len(places), 1)
    return {"recall@1": sum(p == 0 for p in places) / n, "recall@5": sum(p is not None and p < 5 for p in places) / n,
            "mrr": sum(1 / (p + 1) for p in places if p is not None) / n}


def decisions(questions: Sequence[Question], probabilities: Sequence[np.ndarray]) -> list[tuple[float, bool, bool, bool]]:
    """(probability of the first place, first place right, may be posted, answerable) per question."""
    out = []
    for q, p in zip(questions, probabilities):
        if not len(p):
            out.append((0.0, False, False, q.answerable))
            continue
        top = int(np.argmax(p))
        out.append((float(p[top]), bool(q.right[top]), q.says_enough and bool(q.alone[top]), q.answerable))
    return out


def related_decisions(questions: Sequence[Question], probabilities: Sequence[np.ndarray],
                      shown: int = 3) -> list[tuple[float, bool, bool, bool]]:
    """Like `decisions`, for a suggestion: (probability of the first place, a right unit among the
    `shown` most probable, the question says enough, answerable) per question."""
    out = []
    for q, p in zip(questions, probabilities):
        top = np.argsort(-p, kind="stable")[:shown]
        out.append((float(p[top[0]]) if len(p) else 0.0, bool(q.right[top].any()) if len(p) else False,
                    q.says_enough, q.answerable))
    return out


def answer_figures(decided: Sequence[tuple[float, bool, bool, bool]], threshold: float) -> dict:
    """What the bot would post unprompted at this threshold: how many, how many right, false answers."""
    answerable = sum(1 for d in decided if d[3])
    none = len(decided) - answerable
    answered = [d for d in decided if d[2] and d[0] >= threshold]
    right = sum(1 for d in answered if d[1])
    return {"questions": len(decided), "answerable": answerable, "answered": len(answered),
            "answered_right": round(right / max(answerable, 1), 3),
            "precision": round(right / len(answered), 3) if answered else None,
            "false_on_none": round(sum(1 for d in answered if not d[3]) / max(none, 1), 3)}


def evaluate(model, questions: Sequence[Question]) -> dict:
    """A model's figures on labelled questions: recall@1/@5 and MRR of its order, what it would post
    at its answer threshold, and `decided`: the share of questions where answering agrees with the
    first place being right."""
    ranking = ranking_figures(questions, [model.order(q.rows) for q in questions])
    decided = decisions(questions, [model.probability(q.rows, q.discussions) for q in questions])
    agree = sum((p >= model.answer_threshold and gate) == right for p, right, gate, _ in decided)
    return {**{k: round(v, 4) for k, v in ranking.items()}, **answer_figures(decided, model.answer_threshold),
            "decided": round(agree / max(len(decided), 1), 4)}


def threshold_for(decided, precision: float) -> float:
    """The lowest probability at which the posted answers are right at least `precision` of the time
    (over at least MIN_ANSWERS answers); 0.99 (almost never answer) when none is."""
    for hundredths in range(5, 99):
        t = hundredths / 100
        posted = [d[1] for d in decided if d[2] and d[0] >= t]
        if len(posted) >= MIN_ANSWERS and sum(posted) / len(posted) >= precision:
            return t
    return 0.99


def fit_model(questions: Sequence[Question], features: tuple[str, ...], info_column: int):
    """The ranker Model fitted on these questions (order by cross-validated L2, verdict on
    out-of-fold scores, thresholds on out-of-fold verdicts), and its out-of-fold dev figures."""
    from bot.qa.ranker import Model, lead

    questions = [q for q in questions if len(q.rows)]
    every = np.vstack([q.rows for q in questions])
    mean = every.mean(axis=0)
    scale = every.std(axis=0)
    scale = np.where(scale > 1e-9, scale, 1.0)
    standard = [((q.rows - mean) / scale, q.right) for q in questions]
    parts = folds(len(questions), FOLDS)

    def out_of_fold(l2: float) -> list[np.ndarray]:
        scores: list[np.ndarray] = [np.zeros(0)] * len(questions)
        for part in parts:
            held = set(part.tolist())
            w = fit_order([g for i, g in enumerate(standard) if i not in held], l2)
            for i in part:
                scores[i] = standard[i][0] @ w
        return scores

    l2, oof = max(((l2, out_of_fold(l2)) for l2 in L2_CHOICES),
                  key=lambda pair: ranking_figures(questions, pair[1])["mrr"])
    coef = fit_order(standard, l2)
    tops = [int(np.argmax(s)) for s in oof]
    leads = [lead(s, q.discussions) for q, s in zip(questions, oof)]
    x = np.array([[s[t], d[t], q.rows[t, info_column]] for q, s, d, t in zip(questions, oof, leads, tops)])
    y = np.array([bool(q.right[t]) for q, t in zip(questions, tops)], dtype=float)
    (on_score, on_lead, on_info), intercept = fit_logistic(x, y, 1.0)
    model = Model(features, mean, scale, coef, (intercept, max(on_score, 1e-3), max(on_lead, 0.0), on_info), 0.99, 0.99)
    verdict = [model.calibrated(s, d, q.rows[:, info_column]) for q, s, d in zip(questions, oof, leads)]
    decided = decisions(questions, verdict)
    answer_at = threshold_for(decided, ANSWER_PRECISION)
    suggest_at = min(answer_at, threshold_for(related_decisions(questions, verdict), SUGGEST_PRECISION))
    model = model.with_thresholds(answer_at, suggest_at)
    curve = {f"{t:.1f}": (f["answered"], round(f["answered_right"] * f["answerable"]))
             for t in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9) for f in [answer_figures(decided, t)]}
    dev = {"l2": l2, **{k: round(v, 3) for k, v in ranking_figures(questions, oof).items()},
           **answer_figures(decided, answer_at), "posted_and_right_at": curve}
    return model, dev
