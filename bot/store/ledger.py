"""The job ledger: each scheduled post is claimed once per (job, chat, period) before it is sent.

Why: a restart, APScheduler's misfire catch-up or a second `archive-bot clock` must never post the
same digest or reminder twice. The claim row is also the send record (it holds the text), and
both are committed in one transaction *before* the send; the row is marked delivered after.

What happens when things go wrong (documented behaviour, tested in tests/test_jobs_ledger.py):
- the send raises: the claim is released (row deleted, together with whatever the job's
  `on_release` undoes, e.g. reminder counts) so the scheduler's retry or the next run posts it;
- the process dies between claim and send: the row stays "sending" and is never re-sent
  (at most once: a missing post is better than a duplicate in a 500-person group); `stale()`
  lists such rows for the admins.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, and_, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from bot.store.schema import job_ledger

SENDING, DELIVERED = "sending", "delivered"


def runner_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True, slots=True)
class RunKey:
    """Which post: job id, chat ("telegram:-100123" or "group:prodarch") and period ("2018-02-28")."""

    job: str
    chat: str
    period: str

    def _where(self):
        return and_(job_ledger.c.job == self.job, job_ledger.c.chat == self.chat, job_ledger.c.period == self.period)


def claim(engine: Engine, key: RunKey, text: str, now_ts: int, *,
          on_claim: Callable[[Connection], None] | None = None, runner: str | None = None) -> bool:
    """Insert the claim (and run `on_claim` in the same transaction); False if already claimed."""
    try:
        with engine.begin() as conn:
            conn.execute(insert(job_ledger).values(
                job=key.job, chat=key.chat, period=key.period, status=SENDING, text=text,
                runner=runner or runner_name(), claimed_ts=now_ts))
            if on_claim is not None:
                on_claim(conn)
    except IntegrityError:
        return False
    return True


def mark_delivered(engine: Engine, key: RunKey, now_ts: int, message_ids: tuple[str, ...] = ()) -> None:
    with engine.begin() as conn:
        conn.execute(update(job_ledger).where(key._where()).values(
            status=DELIVERED, delivered_ts=now_ts, message_ids=list(message_ids)))


def release(engine: Engine, key: RunKey, *, on_release: Callable[[Connection], None] | None = None) -> None:
    """Forget a claim whose send failed, so a later run may try again."""
    with engine.begin() as conn:
        conn.execute(delete(job_ledger).where(key._where()))
        if on_release is not None:
            on_release(conn)


def status(engine: Engine, key: RunKey) -> str | None:
    with engine.connect() as conn:
        return conn.execute(select(job_ledger.c.status).where(key._where())).scalar_one_or_none()


def runs(engine: Engine, job: str | None = None) -> list[dict]:
    """Ledger rows, oldest first (for tests, `archive-bot clock --status` and admins)."""
    query = select(job_ledger).order_by(job_ledger.c.id)
    if job is not None:
        query = query.where(job_ledger.c.job == job)
    with engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]


def stale(engine: Engine, older_than_ts: int) -> list[dict]:
    """Claims that never reached "delivered": their process died mid-send."""
    query = select(job_ledger).where(job_ledger.c.status == SENDING, job_ledger.c.claimed_ts < older_than_ts)
    with engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]


def published_since(engine: Engine, after_id: int) -> tuple[int, list[tuple[str, str]]]:
    """(highest ledger id, (group, date) keys) of publications delivered after `after_id`.

    The nightly publication's rows are (publish, "group:<name>", "<date>:<content hash>"); a web
    process that leaves the jobs to a clock reads them to know which days to re-index."""
    query = (select(job_ledger.c.id, job_ledger.c.chat, job_ledger.c.period, job_ledger.c.status)
             .where(job_ledger.c.job == "publish", job_ledger.c.id > after_id).order_by(job_ledger.c.id))
    last, keys = after_id, []
    with engine.connect() as conn:
        for row_id, chat, period, status in conn.execute(query):
            if status != DELIVERED:
                break  # still being written: look again next time
            last = row_id
            keys.append((chat.removeprefix("group:"), period.split(":", 1)[0]))
    return last, list(dict.fromkeys(keys))
