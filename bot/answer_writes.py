"""Answering's small store writes, committed in groups by one thread.

Every reply reserves a slot in the chat's reply budget and marks it sent; an answer also passes
the question cool-down, keeps /thread's last answer and logs itself (bot/store/shared.py,
bot/store/answers.py). Run one by one in worker threads, each was a transaction of its own and
two thread hops, and under a burst of questions each hop waited for the interpreter lock behind
the event loop acknowledging webhooks: answers fell ever further behind the acknowledgements.
Here, as in the inbox (bot/inbox.py), each write is a job queued from the event loop; one thread
takes everything queued so far and runs it in ONE transaction under the process's write lock, then
resolves the jobs' futures after the commit. Under load many answers share a commit and a wake-up.

A job is `fn(conn, *args)` on the batch's connection, run in queue order, so a cool-down decided by
an earlier job of the batch is seen by a later one. A batch that fails is run again one job per
transaction, so one job's error (e.g. a reply key recorded twice) reaches only its own caller.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine

from bot.inbox import settle
from bot.store.db import write_lock

_STOP = object()


class AnswerWrites:
    """The group-commit writer for answering. Its thread starts with the first job."""

    def __init__(self, db: Engine, max_batch: int = 256) -> None:
        self.db = db
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._pending: deque = deque()  # (fn, args, future) waiting for the thread (loop side only)
        self._busy = False  # the thread holds a batch
        self.batches = 0  # counters for tests and the benchmark
        self.jobs = 0

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """`fn(conn, *args)` inside a batch's transaction; returns its result after the commit."""
        loop = asyncio.get_running_loop()
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="answer-writes", daemon=True)
            self._thread.start()
        future = loop.create_future()
        self._pending.append((fn, args, future))
        if not self._busy:
            # Hand over on the next loop turn: the jobs queued in this turn share the batch.
            self._busy = True
            loop.call_soon(self._hand_over, loop)
        return await future

    def close(self, timeout: float = 5.0) -> None:
        """Run what is still queued, then let the thread go. A job whose handling was cancelled at
        shutdown still runs: a reply that went out must be marked sent, or a restart repeats it."""
        if self._thread is not None:
            if self._pending:
                self._queue.put(([*self._pending], None))
                self._pending.clear()
            self._queue.put(_STOP)
            self._thread.join(timeout)
            self._thread = None

    # -- the event-loop side ----------------------------------------------------------------------
    def _hand_over(self, loop: asyncio.AbstractEventLoop) -> None:
        batch = []
        while self._pending and len(batch) < self.max_batch:
            batch.append(self._pending.popleft())
        if not batch:  # `close` took them
            self._busy = False
            return
        self._queue.put((batch, loop))

    def _batch_done(self, loop: asyncio.AbstractEventLoop, outcome: list) -> None:
        settle(outcome)
        self._busy = False
        if self._pending:
            self._busy = True
            self._hand_over(loop)

    # -- the writer thread ----------------------------------------------------------------------
    def _work(self) -> None:
        while True:
            job = self._queue.get()
            if job is _STOP:
                return
            batch, loop = job
            outcome = self._write(batch)
            if loop is None:  # handed over by `close`: nobody waits
                continue
            try:
                loop.call_soon_threadsafe(self._batch_done, loop, outcome)
            except RuntimeError:  # the loop closed under us (shutdown): nobody waits any more
                return

    def _write(self, batch: list) -> list:
        """[(future, result, error)] for each job of the batch, after one commit."""
        try:
            with write_lock(self.db), self.db.begin() as conn:
                results = [fn(conn, *args) for fn, args, _ in batch]
        except Exception as exc:  # noqa: BLE001 - isolate: each job again in a transaction of its own
            if len(batch) > 1:
                return [row for entry in batch for row in self._write([entry])]
            return [(batch[0][2], None, exc)]
        self.batches += 1
        self.jobs += len(batch)
        return [(future, result, None) for (_, _, future), result in zip(batch, results)]
