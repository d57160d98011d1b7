"""Storing every incoming message before its webhook is acknowledged, with group commit.

One writer thread owns all inserts: each request queues its messages and awaits a future; the
thread takes everything queued so far, writes it in ONE transaction, and resolves the futures
after the commit. Under load many requests share one commit, so the store does not cap the
webhook's rate; an acknowledged message is always on disk.

- `live_messages` is unique per (platform, chat_id, message_id): a platform's retry of the same
  delivery is stored once and reported as not new (so it is answered once), also when the retry
  reaches another web process: on SQLite one multi-row INSERT ... ON CONFLICT DO NOTHING writes
  the batch, and when it wrote fewer rows than it was given (a retry among them), the batch is
  rolled back and written again with the write lock taken first and one SELECT for the keys already
  stored (bot/store/batch_sql.py: a handful of statements per batch, not a few per row); elsewhere
  INSERT ... ON CONFLICT DO NOTHING RETURNING decides.
- Edited messages update the stored text and `edited_ts` (never new).
- `members` are upserted from every message: display name and is_bot kept current, first seen
  kept, last seen refreshed (to the minute), `joined_ts` set from join events.
- Member updates (renames without a message, `MemberItem`) set the display name in the same
  commit; they do not move last seen (a rename is not activity) and are never "new".
"""

from __future__ import annotations

import asyncio
import json
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, bindparam, func, select, update

from bot.chat import Incoming
from bot.store import batch_sql
from bot.store.db import write_lock
from bot.store.inbox_rows import (
    LIVE_COLUMNS, Item, MemberItem, live_row, live_values, member_rename_rows, member_rows,
)
from bot.store.schema import groups, live_messages, members, pending_work
from bot.store.shared import PENDING_COLUMNS, finish_pending, pending_row, pending_values

log = logging.getLogger(__name__)


def settle(outcome: list) -> None:
    """Resolve a committed batch's futures from (future, result, error) triples, on the loop. A
    future already done was cancelled (the client went away); its write is stored all the same.
    The answering writes' group commit (bot/answer_writes.py) settles its batches the same way."""
    for future, result, error in outcome:
        if future.done():
            continue
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)


class _AlreadyStored(Exception):
    """The batch met a key already stored: it is rolled back and written again, looking first."""


_STOP = object()
_FINISH = object()  # a writer job: delete the pending rows of handled messages
FLUSH_SECONDS = 0.5  # handled messages' pending rows are deleted in batches this often
LAST_SEEN_RESOLUTION = 60  # seconds: members.last_seen_ts is refreshed at most this often


_KEY = ("platform", "chat_id", "message_id")
_MENTIONS_AT = LIVE_COLUMNS.index("mentions")  # the one JSON column
_MEMBER_COLUMNS = ("group_id", "platform", "user_key", "display_name", "is_bot", "first_seen_ts",
                   "last_seen_ts", "joined_ts")


def _driver_value(value):
    """What SQLAlchemy's JSON type would store: lists as JSON text."""
    return json.dumps(value, ensure_ascii=False) if isinstance(value, list) else value


def _dialect_insert(engine: Engine):
    if engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


class Inbox:
    """The group-commit writer. `start()` in the app's cleanup_ctx, `close()` on shutdown."""

    def __init__(self, db: Engine, zone: ZoneInfo, max_batch: int = 500, owner: str = "local") -> None:
        self.db = db
        self.zone = zone
        self.max_batch = max_batch
        self.owner = owner  # the instance that handles what it stores (bot/store/shared.py)
        self._finished: list[tuple[str, str, str]] = []  # handled messages whose pending rows go
        self._flush_handle: asyncio.TimerHandle | None = None
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._group_ids: dict[str, int] = {}
        self._members_seen: dict[tuple, tuple] = {}  # what the members table holds (writer thread)
        self._insert = _dialect_insert(db)
        # Statements built once: building them per batch costs more than running them.
        self._insert_live = self._insert(live_messages).on_conflict_do_nothing(index_elements=list(_KEY))
        upsert = self._insert(members)
        self._upsert_members = upsert.on_conflict_do_update(
            index_elements=["group_id", "platform", "user_key"],
            set_={"display_name": upsert.excluded.display_name, "is_bot": upsert.excluded.is_bot,
                  "last_seen_ts": upsert.excluded.last_seen_ts,
                  "joined_ts": func.coalesce(upsert.excluded.joined_ts, members.c.joined_ts)})
        self._rename_members = upsert.on_conflict_do_update(  # a rename: name and bot flag only
            index_elements=["group_id", "platform", "user_key"],
            set_={"display_name": upsert.excluded.display_name, "is_bot": upsert.excluded.is_bot})
        self._update_edit = update(live_messages).where(
            live_messages.c.platform == bindparam("k_platform"), live_messages.c.chat_id == bindparam("k_chat"),
            live_messages.c.message_id == bindparam("k_id")).values(text=bindparam("k_text"),
                                                                      edited_ts=bindparam("k_ts"))
        self._insert_pending = pending_work.insert()
        self._fast = self._compile_for_sqlite() if db.dialect.name == "sqlite" else {}
        self._conn = None  # the writer thread's connection
        self._pending: deque = deque()  # (items, future) waiting for the writer (loop side only)
        self._busy = False  # the writer holds a batch
        self.batches = 0  # counters for the benchmark and tests
        self.stored = 0

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="inbox-writer", daemon=True)
            self._thread.start()

    async def close(self) -> None:
        """Finish everything queued, then stop the writer thread."""
        if self._thread is not None:
            while self._busy or self._pending:
                await asyncio.sleep(0.01)
            if self._flush_handle is not None:
                self._flush_handle.cancel()
            self._flush_finished()
            self._queue.put(_STOP)
            await asyncio.to_thread(self._thread.join)
            self._thread = None

    # -- the event-loop side --------------------------------------------------------------------
    async def store(self, items: Sequence[Item | MemberItem]) -> list[bool]:
        """Write `items`; returns per item whether it was new (a `MemberItem` never is).
        Returns only after the commit."""
        if not items:
            return []
        if self._thread is None:
            raise RuntimeError("inbox writer not started")
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._pending.append((list(items), future))
        if not self._busy:
            # Hand over on the next loop turn: every request read in this turn joins the batch,
            # so a thread wake-up (which costs more than the insert) is shared.
            self._busy = True
            loop.call_soon(self._hand_over, loop)
        return await future

    def _hand_over(self, loop: asyncio.AbstractEventLoop) -> None:
        """Give the writer everything pending (one thread wake-up per batch, not per request)."""
        batch, count = [], 0
        while self._pending and count < self.max_batch:
            entry = self._pending.popleft()
            batch.append(entry)
            count += len(entry[0])
        self._busy = True
        self._queue.put((batch, loop))

    def _batch_done(self, loop: asyncio.AbstractEventLoop, outcome: list) -> None:
        settle(outcome)
        self._busy = False
        if self._pending:
            self._hand_over(loop)

    def finished(self, key: tuple[str, str, str]) -> None:
        """A stored message was handled: its pending row is deleted with others within a second."""
        self._finished.append(key)
        if self._flush_handle is None:
            self._flush_handle = asyncio.get_running_loop().call_later(FLUSH_SECONDS, self._flush_finished)

    def _flush_finished(self) -> None:
        """Hand the handled keys to the writer thread: it deletes them between two batches, on its
        own connection (no second writer contending for the database)."""
        self._flush_handle = None
        keys, self._finished = self._finished, []
        if keys and self._thread is not None:
            self._queue.put((_FINISH, keys))

    # -- the writer thread --------------------------------------------------------------------
    def _run(self) -> None:
        self._conn = self.db.connect()  # the writer's own connection, held for its life
        try:
            while True:
                job = self._queue.get()
                if job is _STOP:
                    return
                if job[0] is _FINISH:
                    self._delete_pending(job[1])
                    continue
                batch, loop = job
                outcome = self._write_batch(batch)
                loop.call_soon_threadsafe(self._batch_done, loop, outcome)
        finally:
            self._conn.close()
            self._conn = None

    def _delete_pending(self, keys: list[tuple[str, str, str]]) -> None:
        try:
            with write_lock(self.db), self._conn.begin():
                if self._fast:
                    self._raw(self._conn, lambda cursor: batch_sql.delete_keys(cursor, "pending_work", keys))
                else:
                    finish_pending(self._conn, keys)
        except Exception as exc:  # noqa: BLE001 - the rows stay: handled again after a restart
            log.error("deleting %d handled pending row(s) failed: %s", len(keys), type(exc).__name__)

    def _write_batch(self, batch: list) -> list:
        """[(future, results, error)] for each request of the batch, after one commit."""
        items = [item for entry in batch for item in entry[0]]
        try:
            results = self._write(items)
        except Exception as exc:  # noqa: BLE001 - isolate: retry each request on its own
            if len(batch) > 1:
                return [row for entry in batch for row in self._write_batch([entry])]
            log.error("storing %d message(s) failed: %s", len(items), type(exc).__name__)
            return [(batch[0][1], None, exc)]
        self.batches += 1
        self.stored += len(items)
        outcome, pos = [], 0
        for entry_items, future in batch:
            outcome.append((future, results[pos:pos + len(entry_items)], None))
            pos += len(entry_items)
        return outcome

    def _write(self, items: list[Item | MemberItem]) -> list[bool]:
        """Write one batch in one transaction; per item whether it was new.

        On SQLite every message is first taken to be new (a platform's retry is rare), which spares
        each batch the write lock's own statement and the SELECT for keys already stored; a batch
        that meets one is rolled back and written again, looking first."""
        if not self._fast:
            return self._write_once(items, look_first=False)
        try:
            return self._write_once(items, look_first=False)
        except _AlreadyStored:
            return self._write_once(items, look_first=True)

    def _write_once(self, items: list[Item | MemberItem], look_first: bool) -> list[bool]:
        now = int(time.time())
        results = [False] * len(items)
        fresh: dict[str, int] = {}
        conn = self._conn if self._conn is not None else self.db.connect()
        with write_lock(self.db), conn.begin():
            if look_first:
                self._raw(conn, batch_sql.begin_immediate)
            group_ids = {name: self._group_id(conn, name, fresh) for name in {item.group for item in items}}
            messages = [(i, item) for i, item in enumerate(items) if type(item) is Item]
            renames = [item for item in items if type(item) is MemberItem] if len(messages) < len(items) else []
            plain = [(i, item) for i, item in messages if not item.message.edited]
            edits = [(i, item) for i, item in messages if item.message.edited]
            if plain:
                first: dict[tuple, int] = {}  # within the batch, the first copy is the new one
                keys, rows = [], []
                for i, item in plain:
                    m = item.message
                    key = (m.platform, m.chat_id, m.message_id)
                    if key not in first:
                        first[key] = i
                        keys.append(key)
                        rows.append(live_values(m, group_ids[item.group], self.zone))
                new_keys = self._insert_new(conn, keys, rows, look_first)
                for key in new_keys:
                    results[first[key]] = True
                if new_keys:  # handled at least once: a pending row in the message's own transaction
                    self._insert_pending_rows(conn, [items[first[key]].message for key in new_keys], now)
            for _, item in edits:
                m = item.message
                changed = conn.execute(self._update_edit, {
                    "k_platform": m.platform, "k_chat": m.chat_id, "k_id": m.message_id,
                    "k_text": m.text, "k_ts": now})
                if changed.rowcount == 0:  # the edit arrived for a message we never saw
                    row = live_row(m, group_ids[item.group], self.zone) | {"edited_ts": now}
                    self._many(conn, self._insert_live, [row])
            changed_members = [row for row in member_rows([item for _, item in messages], group_ids)
                               if self._member_changed(row)]
            if changed_members:
                self._many(conn, self._upsert_members, changed_members)
            rename_rows = member_rename_rows(renames, group_ids)
            if rename_rows:  # after the messages' rows: in one batch, the rename is the latest news
                conn.execute(self._rename_members, rename_rows)
        if conn is not self._conn:
            conn.close()
        self._group_ids.update(fresh)  # only ids that were committed
        if len(self._members_seen) > 100_000:
            self._members_seen.clear()
        for row in changed_members:
            self._members_seen[(row["group_id"], row["platform"], row["user_key"])] = (
                row["display_name"], row["is_bot"], row["last_seen_ts"])
        for row in rename_rows:  # the next message must not be skipped as "unchanged"
            self._members_seen.pop((row["group_id"], row["platform"], row["user_key"]), None)
        return results

    def _member_changed(self, row: dict) -> bool:
        """Skip an upsert that would change nothing but last_seen by less than a minute."""
        seen = self._members_seen.get((row["group_id"], row["platform"], row["user_key"]))
        return (seen is None or row["joined_ts"] is not None or seen[0] != row["display_name"]
                or seen[1] != row["is_bot"] or row["last_seen_ts"] - seen[2] >= LAST_SEEN_RESOLUTION)

    def _insert_new(self, conn, keys: list[tuple], rows: list[list], look_first: bool) -> set[tuple]:
        """Insert live messages (`rows` in `LIVE_COLUMNS` order, one per key); returns the keys
        that were new. One statement decides newness (INSERT ... ON CONFLICT DO NOTHING RETURNING),
        so a retry delivered to another process at the same moment is still stored once and
        reported new once."""
        if not rows:
            return set()
        if not self._fast:
            stmt = (self._insert(live_messages).values([dict(zip(LIVE_COLUMNS, row)) for row in rows])
                    .on_conflict_do_nothing(index_elements=_KEY)
                    .returning(live_messages.c.platform, live_messages.c.chat_id, live_messages.c.message_id))
            return set(map(tuple, conn.execute(stmt).all()))
        # SQLite: when looking first, the write lock is held since BEGIN IMMEDIATE, so what is
        # absent now is new; otherwise every row must be written, or the batch starts again.

        def insert(cursor) -> set[tuple]:
            stored = batch_sql.existing_keys(cursor, "live_messages", keys) if look_first else set()
            new = [row for row, key in zip(rows, keys) if key not in stored] if stored else rows
            for values in new:
                if values[_MENTIONS_AT] is not None:
                    values[_MENTIONS_AT] = _driver_value(values[_MENTIONS_AT])
            if batch_sql.insert_rows(cursor, "live_messages", LIVE_COLUMNS, new) < len(new):
                raise _AlreadyStored
            return {key for key in keys if key not in stored}

        return self._raw(conn, insert)

    def _insert_pending_rows(self, conn, messages: list[Incoming], now: int) -> None:
        if not self._fast:
            conn.execute(self._insert_pending, [pending_row(m, self.owner, now) for m in messages])
            return
        rows = [pending_values(m, self.owner, now) for m in messages]
        self._raw(conn, lambda cursor: batch_sql.insert_rows(cursor, "pending_work", PENDING_COLUMNS, rows))

    @staticmethod
    def _raw(conn, work):
        """`work(cursor)` on the driver's own cursor (SQLite's fast path), inside `conn`'s transaction."""
        cursor = conn.connection.driver_connection.cursor()
        try:
            return work(cursor)
        finally:
            cursor.close()

    def _compile_for_sqlite(self) -> dict:
        """SQLite: the two bulk statements as driver SQL with their parameter order.

        Passing rows straight to sqlite3's executemany skips SQLAlchemy's per-row parameter
        processing, which costs more than SQLite's own work; other databases use the Core path.
        """
        fast = {}
        for stmt, columns in ((self._insert_live, LIVE_COLUMNS), (self._upsert_members, _MEMBER_COLUMNS)):
            compiled = stmt.compile(dialect=self.db.dialect, column_keys=list(columns))
            fast[id(stmt)] = (str(compiled), tuple(compiled.positiontup))
        return fast

    def _many(self, conn, stmt, rows: list[dict]) -> None:
        fast = self._fast.get(id(stmt))
        if fast is None:
            conn.execute(stmt, rows)
            return
        sql, order = fast
        json_at = [i for i, key in enumerate(order) if key == "mentions"]
        values = [[row[key] for key in order] for row in rows]
        for row in values:
            for i in json_at:
                row[i] = _driver_value(row[i])
        self._raw(conn, lambda cursor: cursor.executemany(sql, values))

    def _group_id(self, conn, name: str, fresh: dict[str, int]) -> int:
        cached = self._group_ids.get(name)
        if cached is not None:
            return cached
        conn.execute(self._insert(groups).on_conflict_do_nothing(index_elements=["name"]), [{"name": name}])
        group_id = conn.execute(select(groups.c.id).where(groups.c.name == name)).scalar_one()
        fresh[name] = group_id
        return group_id
