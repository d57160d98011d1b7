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
