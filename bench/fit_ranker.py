"""Fitting the ranker (bot.qa.ranker) on the DEV splits only, and writing bot/data/ranker.json.

Called by `bench/quality.py --fit`. Every dev question becomes a bot.qa.fit.Question: the features
of all its fused candidates, each labelled right (it covers a labelled message) or not. bot.qa.fit
fits the listwise order (L2 strength by cross-validation on dev), the verdict on out-of-fold
scores, and the thresholds (answers right at least 90% of the time on dev, over at least three
answers). The fitted model is then checked on the held-out TEST splits and those figures are
written beside the weights, so the file says what it was checked on.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from bench.quality import unprompted_to_member
from bot.qa.fit import Question, evaluate, fit_model
from bot.qa.ranker import FEATURES, Model
from bot.refit import labelled_question

OUT = Path(__file__).resolve().parent.parent / "bot" / "data" / "ranker.json"


def questions(engine, rows) -> list[Question]:
    """The labelled Question of every eval row, from the engine's fused candidates."""
    return [labelled_question(engine, row["query"], row["anchors"], before=row["before"],
                              says_enough=engine.says_enough(row["query"]) and not unprompted_to_member(row))
            for row in rows]


def fit(engines: dict, rows: list[dict]) -> None:
    dev = [r for r in rows if r["split"] == "dev"]
    test = [r for r in rows if r["split"] == "test"]
    data = json.loads(OUT.read_text(encoding="utf-8")) if OUT.exists() else {"models": {}}
    for name, engine in engines.items():
        model, dev_figures = fit_model(questions(engine, dev), FEATURES, FEATURES.index("query_info"))
        engine.ranker = model
        test_figures = {kind: evaluate(model, questions(engine, [r for r in test if r["set"] == kind]))
                        for kind in sorted({r["set"] for r in test})}
        info = {"fitted": dt.date.today().isoformat(), "dev_questions": len(dev),
                "dev_out_of_fold": dev_figures, "test": test_figures}
        data["models"][name] = {**model.to_json(), "figures": info}
        print(f"{name}: answer >= {model.answer_threshold}, suggest >= {model.suggest_threshold}")
        print(json.dumps(info, indent=1))
        print("order weights:", ", ".join(f"{f}={w:+.2f}" for f, w in zip(FEATURES, model.coef)))
        print("verdict (intercept, score, lead, query_info):", model.verdict)
    OUT.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")
