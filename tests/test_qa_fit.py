"""The ranker's fitter (bot/qa/fit.py) on data where the answer is known: it must find the feature
that marks the right candidate, calibrate the verdict, and refuse a threshold it cannot back."""

import numpy as np

from bot.qa.fit import Question, fit_logistic, fit_model, fit_order, threshold_for

FEATURES = ("signal", "noise", "query_info")


def questions(n: int, seed: int, answerable_share: float = 0.6) -> list[Question]:
    """n questions of 12 candidates; where answerable, the right one has the highest "signal" plus noise."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        rows = np.column_stack([rng.normal(size=12), rng.normal(size=12), np.full(12, rng.uniform())])
        answerable = rng.uniform() < answerable_share
        right = np.zeros(12, dtype=bool)
        if answerable:
            best = int(np.argmax(rows[:, 0] + rng.normal(scale=0.5, size=12)))
            right[best] = True
            rows[best, 0] += 1.5
        out.append(Question(rows, right, np.ones(12, dtype=bool), True, answerable))
    return out


def test_the_order_weighs_the_feature_that_marks_the_right_candidate():
    train = questions(120, seed=1)
    w = fit_order([(q.rows, q.right) for q in train], l2=1.0)
    assert w[0] > 5 * abs(w[1])


def test_logistic_regression_finds_the_direction_and_the_offset():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2000, 1))
    y = (rng.uniform(size=2000) < 1 / (1 + np.exp(-(2.0 * x[:, 0] - 1.0)))).astype(float)
    coef, intercept = fit_logistic(x, y, l2=0.01)
    assert abs(coef[0] - 2.0) < 0.3 and abs(intercept + 1.0) < 0.3


def test_fitted_model_ranks_held_out_questions_and_answers_at_the_precision_it_promises():
    model, dev = fit_model(questions(200, seed=5), FEATURES, FEATURES.index("query_info"))
    held = questions(200, seed=6)
    firsts = [int(np.argmax(model.probability(q.rows))) for q in held if q.answerable]
    right = sum(q.right[i] for q, i in zip([q for q in held if q.answerable], firsts))
    assert right / len(firsts) > 0.6  # the signal's strongest candidate, far above 1 in 12
    assert dev["recall@1"] > 0.6 and model.answer_threshold < 0.99
    posted = [(q, p) for q in held for p in [model.probability(q.rows)] if p.max() >= model.answer_threshold]
    precision = sum(q.right[int(np.argmax(p))] for q, p in posted) / len(posted)
    assert precision >= 0.8


def test_no_threshold_is_claimed_without_enough_right_answers_behind_it():
    decided = [(0.9, True, True, True), (0.8, True, True, True), (0.7, False, True, False)]
    assert threshold_for(decided, 0.9) == 0.99  # two right answers are not enough to promise 90%
    assert threshold_for(decided + [(0.95, True, True, True)], 0.9) == 0.71
