"""Refitted confidence models: every attempt recorded, the latest adopted one loaded at start."""

from __future__ import annotations

from sqlalchemy import Engine, insert, select

from bot.store.schema import score_models


def record(db: Engine, *, weights: tuple[float, ...], bias: float, rows: int, before: float, after: float,
           adopted: bool, ts: int) -> None:
    with db.begin() as conn:
        conn.execute(insert(score_models).values(weights=list(weights), bias=bias, rows=rows, heldout_before=before,
                                                 heldout_after=after, adopted=adopted, ts=ts))


def adopted(db: Engine) -> tuple[tuple[float, ...], float] | None:
    """The latest adopted (weights, bias), or None while the shipped model stands."""
    with db.connect() as conn:
        row = conn.execute(select(score_models.c.weights, score_models.c.bias).where(score_models.c.adopted)
                           .order_by(score_models.c.id.desc()).limit(1)).first()
    return (tuple(row[0]), float(row[1])) if row is not None else None
