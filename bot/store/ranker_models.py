"""Refitted answer rankers: every attempt recorded, the latest adopted one loaded at start."""

from __future__ import annotations

import logging

from sqlalchemy import Engine, insert, select

from bot.qa.ranker import Model
from bot.store.schema import ranker_models

log = logging.getLogger(__name__)


def record(db: Engine, *, kind: str, model: dict, rows: int, before: dict, after: dict, adopted: bool, ts: int) -> None:
    with db.begin() as conn:
        conn.execute(insert(ranker_models).values(kind=kind, model=model, rows=rows, heldout_before=before,
                                                  heldout_after=after, adopted=adopted, ts=ts))


def adopted(db: Engine, kind: str) -> Model | None:
    """The latest adopted model for this kind of engine, or None while the shipped one stands (also
    when the adopted one was fitted on other features than this version computes)."""
    with db.connect() as conn:
        row = conn.execute(select(ranker_models.c.model).where(ranker_models.c.adopted, ranker_models.c.kind == kind)
                           .order_by(ranker_models.c.id.desc()).limit(1)).first()
    if row is None:
        return None
    try:
        return Model.from_json(row[0])
    except (ValueError, KeyError, TypeError) as exc:
        log.warning("the adopted %s ranker no longer fits this version (%s): using the shipped one", kind, exc)
        return None
