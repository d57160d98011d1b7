"""Refitting the answer confidence on what the group said, never shipping a worse model silently.

Feedback becomes labelled data: each answered (question, unit) with members' verdicts is a row
"the winner was right" (verdicts summing above zero) or "wrong". Together with the development
split of the eval sets (their questions and labelled answers), the confidence model is Platt-
scaled again with i8rank's fitter (`bot.qa.scoring.fit_confidence`). The new model is adopted
only if it decides the held-out questions (the eval sets' test split) at least as well as the one
in use: the share of held-out questions where "confidence >= answer_threshold" agrees with "the
top candidate is the labelled answer". Both figures are logged and every attempt is recorded
(bot/store/score_models.py); an adopted model is loaded at the next start too.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from bot.learning import unit_key
from bot.qa.scoring import confidence, fit_confidence
from bot.store import answers, score_models

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Refit:
    rows: int
    before: float  # held-out decisions right with the model in use
    after: float  # with the refitted one
    adopted: bool


def load_eval(paths) -> tuple[list[dict], list[dict]]:
    """(dev rows, held-out rows) of eval files whose rows carry their question text (`query`)."""
    dev, held = [], []
    for path in paths:
        path = Path(path)
        if not path.is_file():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line) if line.strip() else None
            if isinstance(row, dict) and isinstance(row.get("query"), str):
                (dev if row.get("split") == "dev" else held if row.get("split") == "test" else []).append(row)
    return dev, held


def _is_target(pair, row: dict) -> bool:
    return (row.get("kind") == "answer" and pair.group == row.get("group") and pair.date.isoformat() == row.get("date")
            and any(m.time.strftime("%H:%M:%S") == row.get("time") for m in pair.question))


def _winners(engine, rows: list[dict]) -> list[tuple[tuple[float, ...], float]]:
    """(features of the top candidate, 1.0 if it is the labelled answer) per eval row."""
    out = []
    for row in rows:
        ranked = engine.ranked(row["query"], row.get("group") if row.get("kind") == "answer" else None)
        if ranked:
            pair, values = ranked[0]
            out.append((values, float(_is_target(pair, row))))
    return out


def _feedback(engine, db: Engine) -> list[tuple[tuple[float, ...], float]]:
    """(features of the answered unit for its question, 1.0 if members said right) per answer."""
    out = []
    for group, question, unit, verdict in answers.labelled(db):
        for pair, values in engine.ranked(question, group):
            if unit_key(pair) == unit:
                out.append((values, 1.0 if verdict > 0 else 0.0))
                break
    return out


def decided_right(rows: list[tuple[tuple[float, ...], float]], model, threshold: float) -> float:
    """Share of rows where answering (confidence >= threshold) agrees with the top being right."""
    if not rows:
        return 0.0
    weights, bias = model
    return sum((confidence(values, weights, bias) >= threshold) == bool(label) for values, label in rows) / len(rows)


def refit(db: Engine, engine, eval_paths, threshold: float, now_ts: int) -> Refit | None:
    """Fit on feedback plus the dev split; adopt into `engine` only if held-out is at least as good."""
    dev, held = load_eval(eval_paths)
    heldout = _winners(engine, held)
    labelled = _feedback(engine, db) + _winners(engine, dev)
    if not heldout or len({label for _, label in labelled}) < 2:
        log.info("refit skipped: %d held-out rows, %d labelled rows (both answers needed)", len(heldout), len(labelled))
        return None
    fitted = fit_confidence([v for v, _ in labelled], [y for _, y in labelled])
    before = decided_right(heldout, engine.confidence_model, threshold)
    after = decided_right(heldout, fitted, threshold)
    adopted = after >= before
    log.info("refit on %d rows: held-out decided right %.3f with the model in use, %.3f refitted: %s",
             len(labelled), before, after, "adopted" if adopted else "kept the model in use")
    score_models.record(db, weights=fitted[0], bias=fitted[1], rows=len(labelled), before=before, after=after,
                        adopted=adopted, ts=now_ts)
    if adopted:
        engine.confidence_model = fitted
    return Refit(len(labelled), before, after, adopted)
