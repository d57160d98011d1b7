"""Refitting the answer ranker on what the group said, never shipping a worse model silently.

Feedback becomes labelled data: each answered question with members' verdicts is a labelled
question for the ranker (bot.qa.ranker): the unit the bot posted is the right candidate when the
verdicts sum above zero, and a wrong first place when below. Together with the development split
of the eval sets (their questions and labelled answers), the ranker is fitted again with the same
code that fitted the shipped one (bot.qa.fit). The new model is adopted only if, on the held-out
questions (the eval sets' test split), it ranks at least as well (MRR) and decides at least as
well (the share of questions where "answer" agrees with "the first place is right") as the model
in use. Both figures are logged and every attempt is recorded (bot/store/ranker_models.py); an
adopted model is loaded at the next start too.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy import Engine

from bot.learning import unit_key
from bot.qa.fit import Question, evaluate, fit_model
from bot.qa.ranker import FEATURES, Model, discussion_numbers
from bot.store import answers, ranker_models

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Refit:
    rows: int
    before: dict  # held-out figures of the model in use: mrr, decided (share decided right)
    after: dict  # of the refitted one
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


def _anchors(row: dict) -> set[tuple[str, str, str]]:
    """The archived messages an eval row's answer is in (none for a question that must stay silent)."""
    own = [row] if row.get("kind") == "answer" else []  # a "found" row has its answers only
    return {(a.get("group"), a.get("date"), a.get("time")) for a in [*own, *row.get("answers", [])]}


def covers(unit, anchors: set) -> bool:
    """Whether the unit holds one of these archived messages (group, ISO date, HH:MM:SS)."""
    date = unit.date.isoformat()
    return any((unit.group, date, m.time.strftime("%H:%M:%S")) in anchors for m in unit.messages())


def labelled_question(engine, question: str, anchors: set, *, before=None, says_enough: bool | None = None) -> Question:
    """The engine's fused candidates for a question, each labelled right when it holds one of the
    anchors (none: a question that has no answer). Also what bench/fit_ranker.py fits on."""
    units, features = engine.candidate_rows(question, before=before)
    return Question(features, np.array([covers(u, anchors) for u in units], dtype=bool),
                    np.array([u.stands_alone for u in units], dtype=bool),
                    engine.says_enough(question) if says_enough is None else says_enough, bool(anchors),
                    discussion_numbers(units))


def eval_questions(engine, rows: list[dict]) -> list[Question]:
    questions = (labelled_question(engine, row["query"], _anchors(row)) for row in rows)
    return [q for q in questions if len(q.rows)]


def feedback_questions(engine, db: Engine) -> list[Question]:
    """One labelled question per answered question with verdicts: the posted unit right or wrong."""
    out = []
    for group, question, unit, verdict in answers.labelled(db):
        units, rows = engine.candidate_rows(question, group)
        posted = np.array([unit_key(u) == unit for u in units], dtype=bool)
        if not posted.any():
            continue  # the unit is gone from the archive (erased, re-mined)
        alone = np.array([u.stands_alone for u in units], dtype=bool)
        says_enough = engine.says_enough(question)
        discussions = discussion_numbers(units)
        if verdict > 0:
            out.append(Question(rows, posted, alone, says_enough, True, discussions))
        else:  # only the posted unit is known to be wrong: it teaches the verdict, not the order
            out.append(Question(rows, np.zeros(len(units), dtype=bool), alone, says_enough, False, discussions))
    return out


def refit(db: Engine, engine, eval_paths, now_ts: int) -> Refit | None:
    """Fit on feedback plus the dev split; adopt into `engine` only if held-out is at least as good."""
    dev, held = load_eval(eval_paths)
    heldout = eval_questions(engine, held)
    labelled = feedback_questions(engine, db) + eval_questions(engine, dev)
    if not heldout or not any(q.right.any() for q in labelled):
        log.info("refit skipped: %d held-out questions, %d labelled questions (a right answer is needed)",
                 len(heldout), len(labelled))
        return None
    fitted, _ = fit_model(labelled, FEATURES, FEATURES.index("query_info"))
    before, after = evaluate(engine.ranker, heldout), evaluate(fitted, heldout)
    adopted = after["mrr"] >= before["mrr"] and after["decided"] >= before["decided"]
    log.info("refit on %d questions: held-out MRR %.3f and decided right %.3f with the model in use, "
             "%.3f and %.3f refitted: %s", len(labelled), before["mrr"], before["decided"], after["mrr"],
             after["decided"], "adopted" if adopted else "kept the model in use")
    ranker_models.record(db, kind=engine.ranker_kind, model=fitted.to_json(), rows=len(labelled), before=before,
                         after=after, adopted=adopted, ts=now_ts)
    if adopted:
        engine.ranker = fitted
    return Refit(len(labelled), before, after, adopted)
