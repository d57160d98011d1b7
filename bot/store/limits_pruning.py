"""Forgetting the rows of the shared limits (bot/store/shared.py) that nothing reads any more.

Every reply adds a `chat_replies` row and every distinct question a row in `answered_questions`;
without pruning both tables grow for as long as the bot runs. What goes:

- a reply row without a reply key once it is older than a minute: the reply limit counts only the
  last 60 s (`Limits.reserve_reply_in`);
- a keyed reply row once it is older than `KEYED_KEEP_SECONDS` and its message has no
  `pending_work` row: only a resumed handling of a pending message asks whether a reply went out
  (`Limits.already_sent`), and the key names its message (`platform:chat:message_id:position`,
  bot/context.py `send`), so a message still pending, however old, keeps its replies;
- a cool-down row once it is older than the cool-down: `Limits.first_time_in` would overwrite it.

Deletes run in short transactions of at most `BATCH` rows (the first run on a store that never
pruned must not hold SQLite's write lock while webhooks wait for it), each found through an index
on `ts`. Deleting is idempotent, so two processes running the job at once do no harm.
"""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import ColumnElement, Engine, Table, and_, delete, or_, select

from bot.store.db import writing
from bot.store.schema import answered_questions, chat_replies, pending_work

REPLY_WINDOW_MS = 60_000  # the reply limit's sliding minute
KEYED_KEEP_SECONDS = 3600  # a handling in progress is far younger; older keys matter only while pending
BATCH = 2000


class Pruned(NamedTuple):
    replies: int  # reply rows without a key
    keyed_replies: int
    cooldowns: int


def prune_limits(db: Engine, now: float, cooldown_seconds: float, batch: int = BATCH) -> Pruned:
    """Delete the rows of the reply limit and the cool-down that no longer matter at `now`."""
    ms = int(now * 1000)
    replies = _delete_older(db, chat_replies, and_(chat_replies.c.reply_key.is_(None),
                                                   chat_replies.c.ts < ms - REPLY_WINDOW_MS), batch)
    keyed = _delete_keyed_before(db, ms - KEYED_KEEP_SECONDS * 1000, batch)
    cooldowns = _delete_older(db, answered_questions,
                              answered_questions.c.ts < ms - int(cooldown_seconds * 1000), batch)
    return Pruned(replies, keyed, cooldowns)


def _delete_older(db: Engine, table: Table, old: ColumnElement[bool], batch: int) -> int:
    """Delete `table`'s `old` rows, oldest first, about `batch` rows a transaction (ties on `ts` go together)."""
    deleted = 0
    while True:
        with writing(db) as conn:
            edge = conn.execute(select(table.c.ts).where(old).order_by(table.c.ts)
                                .offset(batch - 1).limit(1)).scalar_one_or_none()
            deleted += conn.execute(delete(table).where(old if edge is None else and_(old, table.c.ts <= edge))
                                    ).rowcount
        if edge is None:
            return deleted


def _pending_messages(db: Engine) -> set[str]:
    """`platform:chat:message_id` of every message still waiting to be handled (a small table)."""
    with db.connect() as conn:
        rows = conn.execute(select(pending_work.c.platform, pending_work.c.chat_id, pending_work.c.message_id))
        return {f"{platform}:{chat}:{message}" for platform, chat, message in rows}


def _delete_keyed_before(db: Engine, before_ms: int, batch: int) -> int:
    """Delete keyed reply rows older than `before_ms` whose message is no longer pending.

    A new pending row is only ever written for a message never handled before (a redelivery is
    refused by the live table's unique key), so one read of the pending messages serves the run."""
    pending = _pending_messages(db)
    deleted, after = 0, (-1, 0)
    while True:
        after_ts, after_id = after
        with writing(db) as conn:
            rows = conn.execute(select(chat_replies.c.id, chat_replies.c.ts, chat_replies.c.reply_key).where(
                chat_replies.c.reply_key.is_not(None), chat_replies.c.ts < before_ms, chat_replies.c.ts >= after_ts,
                or_(chat_replies.c.ts > after_ts, chat_replies.c.id > after_id))
                .order_by(chat_replies.c.ts, chat_replies.c.id).limit(batch)).all()
            gone = [row.id for row in rows if row.reply_key.rpartition(":")[0] not in pending]
            if gone:
                deleted += conn.execute(delete(chat_replies).where(chat_replies.c.id.in_(gone))).rowcount
        if len(rows) < batch:
            return deleted
        after = (rows[-1].ts, rows[-1].id)
