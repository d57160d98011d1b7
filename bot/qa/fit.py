"""Fitting the ranker's two parts with numpy alone, so the nightly refit can run wherever the bot runs.

The order model is listwise: for each question it makes the labelled-right candidates likely under
a softmax over all of that question's candidates (a conditional logit). Only differences between
candidates of one question matter to it, so it learns what puts the right unit above the others,
not how easy a question was; with a few hundred labelled questions this is far better conditioned
than a logistic model over every candidate pooled. The verdict model is a small logistic regression
over how the question's best candidate stands (its order score, its lead over the next discussion):
it says how often that first place is right, which is what the answer threshold needs.
Both are maximised by Newton's method with an L2 penalty (the objectives are concave).
"""

from __future__ import annotations

from collections.abc import Sequence

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
    groups = [(x, y) for x, y in groups if y.any() and len(x) > 1]
    dim = groups[0][0].shape[1] if groups else 0

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
