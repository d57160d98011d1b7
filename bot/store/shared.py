"""What several `serve` processes must agree on, kept in the store: limits, chat state, pending work.

- `Limits`: the per-chat reply limit (a sliding minute over `chat_replies`) and the question
  cool-down (`answered_questions`, decided by one INSERT ... ON CONFLICT DO UPDATE ... WHERE), so
  two processes behind one address answer a question once and count one budget per chat.
- The chat state (`chat_state`): small JSON values per chat, e.g. the last answer for /thread.
- Pending work (`pending_work`): the inbox writes a row per new message in the message's own
  transaction (`pending_row`); the dispatcher deletes it once the message is handled
  (`finish_pending`); at start a process claims and handles the rows left by a crash
  (`claim_pending`): its own instance's at once, another instance's after `lease_seconds`.
- Reply keys (message + reply position) mark replies that went out, so a handling resumed
  after a crash skips what was already sent: every acknowledged message is answered once.
- Rows of the limits that no longer matter are deleted by the `prune-limits` job
  (bot/store/limits_pruning.py, handlers/prune.py).

Calls are synchronous and short (one statement or two); async code runs them in a thread
(`Context.db`): a write may wait for the lock another writer holds. The `*_in` forms run inside a
caller's transaction: answering's writes are committed in groups (bot/answer_writes.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import time
from collections.abc import Iterable
from typing import NamedTuple

import orjson
from sqlalchemy import Connection, Engine, and_, bindparam, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from bot.chat import Incoming, Member
from bot.store.db import writing
from bot.store.schema import answered_questions, chat_replies, chat_state, pending_work

ChatKey = tuple[str, str]
log = logging.getLogger(__name__)


def _insert(engine: Engine):
    if engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


class Limits:
    """The per-chat reply budget and question cool-down, shared through the store."""

    def __init__(self, db: Engine, replies_per_minute: int, cooldown_seconds: float) -> None:
        self.db = db
        self.replies_per_minute = replies_per_minute
        self.cooldown_seconds = cooldown_seconds
        lock = _insert(db)(chat_state)
        self._lock = lock.on_conflict_do_update(index_elements=["platform", "chat_id", "name"],
                                                set_={"value": lock.excluded.value})
        insert = _insert(db)(answered_questions)
        self._cool = insert.on_conflict_do_update(
            index_elements=["platform", "chat_id", "key"], set_={"ts": insert.excluded.ts},
            where=answered_questions.c.ts <= insert.excluded.ts - bindparam("cooldown_ms")).returning(
                answered_questions.c.ts)

    def reserve_reply(self, chat: ChatKey, now: float) -> int | None:
        """A slot for one reply in `chat` (its row id), or None when the chat had
        `replies_per_minute` replies in the last 60 s."""
        with writing(self.db) as conn:
            return self.reserve_reply_in(conn, chat, now)

    def reserve_reply_in(self, conn: Connection, chat: ChatKey, now: float) -> int | None:
        """`reserve_reply` inside the caller's transaction (bot/answer_writes.py commits many)."""
        ms = int(now * 1000)
        # Write the chat's lock row first: concurrent reservations for one chat (in any process)
        # wait here for each other, so the count below is never stale.
        conn.execute(self._lock, {"platform": chat[0], "chat_id": chat[1][:256], "name": "reply_budget",
                                  "value": str(ms)})
        recent = conn.execute(select(func.count()).select_from(chat_replies).where(
            chat_replies.c.platform == chat[0], chat_replies.c.chat_id == chat[1],
            chat_replies.c.ts > ms - 60_000)).scalar_one()
        if recent >= self.replies_per_minute:
            return None
        return conn.execute(chat_replies.insert().values(platform=chat[0], chat_id=chat[1], ts=ms)
                            .returning(chat_replies.c.id)).scalar_one()

    def allow_reply(self, chat: ChatKey, now: float) -> bool:
        return self.reserve_reply(chat, now) is not None

    def mark_sent(self, slot: int, reply_key: str) -> None:
        """The reply in `slot` went out as `reply_key` (a resumed handling will skip it)."""
        try:
            with writing(self.db) as conn:
                self.mark_sent_in(conn, slot, reply_key)
        except IntegrityError:  # the same reply was recorded by another handling of the message
            log.warning("reply %s recorded twice", reply_key)

    @staticmethod
    def mark_sent_in(conn: Connection, slot: int, reply_key: str) -> None:
        """`mark_sent` inside the caller's transaction; raises IntegrityError for a key recorded twice."""
        conn.execute(update(chat_replies).where(chat_replies.c.id == slot).values(reply_key=reply_key))

    def already_sent(self, reply_key: str) -> bool:
        with self.db.connect() as conn:
            return conn.execute(select(chat_replies.c.id).where(chat_replies.c.reply_key == reply_key)).first() is not None

    def first_time(self, chat: ChatKey, key: str, now: float) -> bool:
        """True (and remembered) unless `key` was answered in `chat` within the cool-down."""
        with writing(self.db) as conn:
            return self.first_time_in(conn, chat, key, now)

    def first_time_in(self, conn: Connection, chat: ChatKey, key: str, now: float) -> bool:
        """`first_time` inside the caller's transaction."""
        if not key:
            return True
        digest = hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()[:64]
        row = conn.execute(self._cool, {"platform": chat[0], "chat_id": chat[1][:256], "key": digest,
                                        "ts": int(now * 1000), "cooldown_ms": int(self.cooldown_seconds * 1000)}
                           ).first()
        return row is not None


# -- chat state ------------------------------------------------------------------------------------
def get_state(db: Engine, chat: ChatKey, name: str):
    with db.connect() as conn:
        value = conn.execute(select(chat_state.c.value).where(
            chat_state.c.platform == chat[0], chat_state.c.chat_id == chat[1][:256],
            chat_state.c.name == name)).scalar_one_or_none()
    return None if value is None else json.loads(value)


def set_state(db: Engine, chat: ChatKey, name: str, value) -> None:
    with writing(db) as conn:
        set_state_in(conn, chat, name, value)


def set_state_in(conn: Connection, chat: ChatKey, name: str, value) -> None:
    """`set_state` inside the caller's transaction."""
    insert = _insert(conn.engine)(chat_state).values(platform=chat[0], chat_id=chat[1][:256], name=name,
                                                     value=json.dumps(value, ensure_ascii=False))
    conn.execute(insert.on_conflict_do_update(index_elements=["platform", "chat_id", "name"],
                                              set_={"value": insert.excluded.value}))


# -- pending work ------------------------------------------------------------------------------------
def _member(member: Member) -> list:
    return [member.id, member.name, member.is_bot]


def message_json(m: Incoming) -> str:
    """The pending row's copy of a message (written for every new message, so orjson: a fifth of
    the standard encoder's time; a text it refuses, such as a lone surrogate, takes the standard one)."""
    fields = {
        "platform": m.platform, "chat_id": m.chat_id, "message_id": m.message_id, "sender": _member(m.sender),
        "text": m.text, "time": m.time.isoformat(), "mentions": [_member(x) for x in m.mentions],
        "reply_to": m.reply_to, "thread_id": m.thread_id, "command": m.command, "args": m.args,
        "addressed": m.addressed, "edited": m.edited, "joined": [_member(x) for x in m.joined]}
    try:
        return orjson.dumps(fields).decode()
    except orjson.JSONEncodeError:
        return json.dumps(fields, ensure_ascii=False)


def message_from_json(text: str) -> Incoming:
    d = json.loads(text)
    return Incoming(
        platform=d["platform"], chat_id=d["chat_id"], message_id=d["message_id"], sender=Member(*d["sender"]),
        text=d["text"], time=dt.datetime.fromisoformat(d["time"]), mentions=tuple(Member(*x) for x in d["mentions"]),
        reply_to=d["reply_to"], thread_id=d["thread_id"], command=d["command"], args=d["args"],
        addressed=d["addressed"], edited=d["edited"], joined=tuple(Member(*x) for x in d["joined"]))


PENDING_COLUMNS = ("platform", "chat_id", "message_id", "payload", "owner", "claimed_ts")


def pending_values(m: Incoming, owner: str, now: int) -> list:
    """A message's pending_work row in `PENDING_COLUMNS` order (the inbox's SQLite batch statements
    take the values as they are)."""
    return [m.platform, m.chat_id, m.message_id, message_json(m), owner, now]


def pending_row(m: Incoming, owner: str, now: int) -> dict:
    """The pending_work row of a message as a dict (SQLAlchemy Core's statements)."""
    return dict(zip(PENDING_COLUMNS, pending_values(m, owner, now)))


_DELETE_PENDING = delete(pending_work).where(
    pending_work.c.platform == bindparam("k_platform"), pending_work.c.chat_id == bindparam("k_chat"),
    pending_work.c.message_id == bindparam("k_message"))


def finish_pending(conn: Connection, keys: Iterable[tuple[str, str, str]]) -> None:
    """Delete the pending rows of handled messages (inside the caller's transaction)."""
    rows = [{"k_platform": p, "k_chat": c, "k_message": m} for p, c, m in keys]
    if rows:
        conn.execute(_DELETE_PENDING, rows)


def run_owner(instance: str) -> str:
    """The owner name of this process's run: the instance, then what tells runs apart."""
    return f"{instance}#{os.getpid()}.{time.time_ns()}"


class Claimed(NamedTuple):
    """A message to handle again, with when it was received: the row's `claimed_ts` as the inbox
    wrote it (or as an earlier restart's claim left it), so a resumed question keeps its age."""

    message: Incoming
    received: float


def claim_pending(db: Engine, owner: str, now: int, lease_seconds: int) -> list[Claimed]:
    """The messages this process must handle again: rows of earlier runs of its own instance
    (that run is gone: this one has its address), and other instances' rows older than the lease.
    Each row is claimed by one UPDATE, so two starting processes never take the same one."""
    instance = owner.rsplit("#", 1)[0]
    earlier_run = and_(pending_work.c.owner.startswith(instance + "#", autoescape=True), pending_work.c.owner != owner)
    claimable = or_(earlier_run, and_(pending_work.c.owner != owner, pending_work.c.claimed_ts < now - lease_seconds))
    claimed = []
    with db.connect() as conn:
        rows = conn.execute(select(pending_work.c.id, pending_work.c.payload, pending_work.c.owner,
                                   pending_work.c.claimed_ts).where(claimable).order_by(pending_work.c.id)).all()
    for row_id, payload, old_owner, old_ts in rows:
        with db.begin() as conn:
            won = conn.execute(update(pending_work).where(
                pending_work.c.id == row_id, pending_work.c.owner == old_owner, pending_work.c.claimed_ts == old_ts)
                .values(owner=owner, claimed_ts=now)).rowcount
        if won:
            claimed.append(Claimed(message_from_json(payload), float(old_ts)))
    return claimed


def pending_count(db: Engine) -> int:
    with db.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(pending_work)).scalar_one())
