"""Answer quality floors on the labelled paraphrase set (a little under the measured figures).

Measured with bench/quality.py on the shared archive: recall@1 0.890, recall@5 0.967, MRR 0.922,
false answers 2.2%, answered correctly 72.5%; the WRatio baseline: recall@1 0.484, recall@5 0.824,
MRR 0.621 (and at its calibrated cutoff it answers nothing).
"""

import importlib.util

from bot.archive import read_folder
from bot.qa.engine import AnswerEngine
from tests.conftest import ROOT


def _quality():
    spec = importlib.util.spec_from_file_location("bench_quality", ROOT / "bench" / "quality.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_engine_meets_its_floors_and_beats_the_naive_baseline(shared_archive):
    quality = _quality()
    days, errors = read_folder([shared_archive])
    assert not errors
    engine = AnswerEngine.from_days(days)
    answer, silent = quality.load_eval()
    assert len(answer) >= 80 and len(silent) >= 40
    ours = quality.evaluate_engine(engine, answer, silent)
    assert ours["recall@1"] >= 0.85
    assert ours["recall@5"] >= 0.94
    assert ours["mrr"] >= 0.88
    assert ours["false_answers"] <= 0.05
    assert ours["answered_correctly"] >= 0.65

    baseline = quality.Baseline(engine.pairs())
    cutoff = quality.calibrate_cutoff([baseline.best(r["query"])[1] for r in silent])
    theirs = quality.evaluate_baseline(baseline, answer, silent, cutoff)
    for key in ("recall@1", "recall@5", "mrr", "answered_correctly"):
        assert ours[key] >= theirs[key] + 0.1, key
