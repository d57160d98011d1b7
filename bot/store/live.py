"""Single live messages by their platform id (what an admin's /pin replies to)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, select

from bot.store.schema import live_messages


@dataclass(frozen=True, slots=True)
class LiveMessage:
    message_id: str
    sender_id: str
    sender_name: str
    text: str
    ts: int
    reply_to: str | None


def message(db: Engine, platform: str, chat_id: str, message_id: str) -> LiveMessage | None:
    with db.connect() as conn:
        row = conn.execute(select(live_messages.c.message_id, live_messages.c.sender_id, live_messages.c.sender_name,
                                  live_messages.c.text, live_messages.c.ts, live_messages.c.reply_to)
                           .where(live_messages.c.platform == platform, live_messages.c.chat_id == chat_id,
                                  live_messages.c.message_id == message_id)).first()
    return LiveMessage(*row) if row is not None else None
