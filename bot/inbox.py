"""Storing every incoming message before its webhook is acknowledged, with group commit.

One writer thread owns all inserts: each request queues its messages and awaits a future; the
thread takes everything queued so far, writes it in ONE transaction, and resolves the futures
after the commit. Under load many requests share one commit, so the store does not cap the
webhook's rate; an acknowledged message is always on disk.

- `live_messages` is unique per (platform, chat_id, message_id): a platform's retry of the same
  delivery is stored once and reported as not new (so it is answered once).
- Edited messages update the stored text and `edited_ts` (never new).
- `members` are upserted on every message: display name and last seen refreshed, first seen kept,
  `joined_ts` set from join events, `is_bot` kept current.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select, update

from bot.chat import Incoming, Member
from bot.store.schema import groups, live_messages, members

log = logging.getLogger(__name__)

_STOP = object()


@dataclass(frozen=True, slots=True)
class Item:
    """One message to store, with the archive group its chat belongs to."""

    message: Incoming
    group: str


def _dialect_insert(engine: Engine):
    if engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


class Inbox:
    """The group-commit writer. `start()` in the app's cleanup_ctx, `close()` on shutdown."""

    def __init__(self, db: Engine, zone: ZoneInfo, max_batch: int = 500) -> None:
        self.db = db
        self.zone = zone
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._group_ids: dict[str, int] = {}
        self._insert = _dialect_insert(db)
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
            self._queue.put(_STOP)
            await asyncio.to_thread(self._thread.join)
            self._thread = None

    # -- the async side -------------------------------------------------------------------------
    async def store(self, items: Sequence[Item]) -> list[bool]:
        """Write `items`; returns per item whether it was new. Returns only after the commit."""
        if not items:
            return []
        if self._thread is None:
            raise RuntimeError("inbox writer not started")
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._queue.put((list(items), future, loop))
        return await future

    # -- the writer thread --------------------------------------------------------------------
    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is _STOP:
                break
            batch = [first]
            count = len(first[0])
            while count < self.max_batch:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is _STOP:
                    stopping = True
                    break
                batch.append(nxt)
                count += len(nxt[0])
            self._write_batch(batch)

    def _write_batch(self, batch: list) -> None:
        items = [item for entry in batch for item in entry[0]]
        try:
            results = self._write(items)
            outcome = []
            pos = 0
            for entry in batch:
                outcome.append((entry, results[pos:pos + len(entry[0])], None))
                pos += len(entry[0])
        except Exception as exc:  # noqa: BLE001 - isolate: retry each request on its own
            if len(batch) > 1:
                for entry in batch:
                    self._write_batch([entry])
                return
            log.error("storing %d message(s) failed: %s", len(items), type(exc).__name__)
            outcome = [(batch[0], None, exc)]
        self.batches += 1
        self.stored += len(items)
        for (_items, future, loop), result, error in outcome:
            loop.call_soon_threadsafe(_resolve, future, result, error)

    def _write(self, items: list[Item]) -> list[bool]:
        now = int(time.time())
        results = [False] * len(items)
        fresh: dict[str, int] = {}
        with self.db.begin() as conn:
            group_ids = {name: self._group_id(conn, name, fresh) for name in {item.group for item in items}}
            plain = [(i, item) for i, item in enumerate(items) if not item.message.edited]
            edits = [(i, item) for i, item in enumerate(items) if item.message.edited]
            if plain:
                ids = list({item.message.message_id for _, item in plain})
                existing = set(conn.execute(
                    select(live_messages.c.platform, live_messages.c.chat_id, live_messages.c.message_id)
                    .where(live_messages.c.message_id.in_(ids))).all())
                rows = []
                for i, item in plain:
                    m = item.message
                    key = (m.platform, m.chat_id, m.message_id)
                    if key in existing:
                        continue
                    existing.add(key)
                    results[i] = True
                    rows.append(self._row(m, group_ids[item.group]))
                if rows:
                    conn.execute(self._insert(live_messages).on_conflict_do_nothing(
                        index_elements=["platform", "chat_id", "message_id"]), rows)
            for _, item in edits:
                m = item.message
                changed = conn.execute(
                    update(live_messages).where(
                        live_messages.c.platform == m.platform, live_messages.c.chat_id == m.chat_id,
                        live_messages.c.message_id == m.message_id).values(text=m.text, edited_ts=now))
                if changed.rowcount == 0:  # the edit arrived for a message we never saw
                    row = self._row(m, group_ids[item.group]) | {"edited_ts": now}
                    conn.execute(self._insert(live_messages).on_conflict_do_nothing(
                        index_elements=["platform", "chat_id", "message_id"]), [row])
            member_rows = self._member_rows(items, group_ids)
            if member_rows:
                stmt = self._insert(members)
                stmt = stmt.on_conflict_do_update(
                    index_elements=["group_id", "platform", "user_key"],
                    set_={"display_name": stmt.excluded.display_name,
                          "is_bot": stmt.excluded.is_bot,
                          "last_seen_ts": stmt.excluded.last_seen_ts,
                          "joined_ts": _coalesce(stmt.excluded.joined_ts, members.c.joined_ts)})
                conn.execute(stmt, member_rows)
        self._group_ids.update(fresh)  # only ids that were committed
        return results

    def _row(self, m: Incoming, group_id: int) -> dict:
        return {
            "platform": m.platform, "chat_id": m.chat_id, "message_id": m.message_id,
            "group_id": group_id, "ts": int(m.time.timestamp()),
            "date": m.time.astimezone(self.zone).date().isoformat(),
            "sender_id": m.sender.id, "sender_name": m.sender.name, "text": m.text,
            "mentions": [member.name for member in m.mentions] or None,
            "reply_to": m.reply_to, "edited_ts": None,
        }

    @staticmethod
    def _member_rows(items: list[Item], group_ids: dict[str, int]) -> list[dict]:
        rows: dict[tuple, dict] = {}

        def add(member: Member, item: Item, ts: int, joined: bool) -> None:
            key = (group_ids[item.group], item.message.platform, member.id)
            row = rows.get(key)
            joined_ts = ts if joined else (row["joined_ts"] if row else None)
            rows[key] = {"group_id": key[0], "platform": key[1], "user_key": member.id,
                         "display_name": member.name, "is_bot": member.is_bot,
                         "first_seen_ts": row["first_seen_ts"] if row else ts,
                         "last_seen_ts": ts, "joined_ts": joined_ts}

        for item in items:
            m = item.message
            ts = int(m.time.timestamp())
            if m.sender.id:
                add(m.sender, item, ts, joined=False)
            for member in m.joined:
                add(member, item, ts, joined=True)
        return list(rows.values())

    def _group_id(self, conn, name: str, fresh: dict[str, int]) -> int:
        cached = self._group_ids.get(name)
        if cached is not None:
            return cached
        conn.execute(self._insert(groups).on_conflict_do_nothing(index_elements=["name"]), [{"name": name}])
        group_id = conn.execute(select(groups.c.id).where(groups.c.name == name)).scalar_one()
        fresh[name] = group_id
        return group_id


def _coalesce(new, old):
    from sqlalchemy import func

    return func.coalesce(new, old)


def _resolve(future: asyncio.Future, result, error) -> None:
    if future.done():  # the request was cancelled (client went away); the row is stored anyway
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)
