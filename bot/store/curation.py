"""Admins' curation of a chat's answers: pinned units (the answer to a question) and hidden units.

Rows name units by their key (bot/learning.py); /unpin removes a unit's pins and hides alike.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, delete, insert, select

from bot.store.schema import curation


@dataclass(frozen=True, slots=True)
class Curated:
    action: str  # "pin" | "hide"
    unit: str
    question: str


def add(db: Engine, *, platform: str, chat_id: str, action: str, unit: str, question: str, admin_id: str,
        ts: int) -> None:
    """Pin `unit` as the answer to `question`, or hide it (a repeated pin of the same pair is one row)."""
    with db.begin() as conn:
        conn.execute(delete(curation).where(curation.c.platform == platform, curation.c.chat_id == chat_id,
                                            curation.c.action == action, curation.c.unit == unit,
                                            curation.c.question == question))
        conn.execute(insert(curation).values(platform=platform, chat_id=chat_id, action=action, unit=unit,
                                             question=question, admin_id=admin_id, ts=ts))


def remove(db: Engine, platform: str, chat_id: str, unit: str) -> int:
    """Drop every pin and hide of `unit` in the chat; returns how many rows went."""
    with db.begin() as conn:
        return conn.execute(delete(curation).where(curation.c.platform == platform, curation.c.chat_id == chat_id,
                                                   curation.c.unit == unit)).rowcount


def of_chat(db: Engine, platform: str, chat_id: str) -> list[Curated]:
    """The chat's pins and hides, newest first."""
    with db.connect() as conn:
        rows = conn.execute(select(curation.c.action, curation.c.unit, curation.c.question)
                            .where(curation.c.platform == platform, curation.c.chat_id == chat_id)
                            .order_by(curation.c.id.desc())).all()
    return [Curated(*row) for row in rows]


def forget_units(conn, prefixes: list[str]) -> int:
    """Erasure: drop curation of units that quote an erased message (keys starting with a prefix,
    or equal to a whole key)."""
    gone = 0
    for prefix in prefixes:
        gone += conn.execute(delete(curation).where(curation.c.unit.startswith(prefix, autoescape=True))).rowcount
    return gone
