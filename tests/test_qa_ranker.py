"""The shipped ranker: its file matches the features, and its probability orders by the weights."""

import numpy as np
import pytest

from bot.qa.ranker import FEATURES, Model, model, shipped


def test_shipped_models_fit_the_features_and_say_what_they_were_checked_on():
    for name in ("hybrid", "lexical"):
        m = model(name)
        assert m.features == FEATURES and len(m.coef) == len(FEATURES)
        assert 0 < m.suggest_threshold <= m.answer_threshold < 1
        held_out = shipped()["models"][name]["figures"]["test"]
        assert set(held_out) >= {"reworded", "live"}


def test_probability_follows_the_weights_and_a_refit_on_other_features_is_refused():
    m = model("lexical")
    rows = np.zeros((2, len(FEATURES)))
    strongest = int(np.argmax(m.coef / m.scale))
    rows[1, strongest] = 1.0
    low, high = m.probability(rows)
    assert 0 <= low < high <= 1
    stale = {**m.to_json(), "features": list(FEATURES[:-1])}
    with pytest.raises(ValueError):
        Model.from_json(stale)


def test_lead_is_the_distance_to_the_best_other_discussion():
    from bot.qa.ranker import LEAD_CAP, lead

    scores = np.array([3.0, 1.0, 2.0])
    assert lead(scores).tolist() == [1.0, -2.0, -1.0]
    # units 0 and 2 start at the same line: one discussion, measured against unit 1 only
    assert lead(scores, np.array([0, 1, 0])).tolist() == [2.0, -2.0, 1.0]
    assert lead(scores, np.zeros(3, dtype=int)).tolist() == [LEAD_CAP] * 3
    assert lead(np.array([50.0, 0.0])).tolist() == [LEAD_CAP, -LEAD_CAP]


def test_probability_orders_discussions_as_the_score_does():
    m = model("lexical")
    rng = np.random.default_rng(5)
    for _ in range(50):
        rows = rng.normal(m.mean, m.scale, size=(12, len(FEATURES)))
        rows[:, FEATURES.index("query_info")] = 0.5  # one question: it says as much for every candidate
        discussions = rng.integers(0, 5, size=12)
        scores, probs = m.order(rows), m.probability(rows, discussions)
        present = np.unique(discussions)
        by_score = sorted(present, key=lambda d: -scores[discussions == d].max())
        by_probability = sorted(present, key=lambda d: -probs[discussions == d].max())
        assert by_score == by_probability
