"""The `prune-limits` job (handlers/prune.py): declared among the posting jobs on an interval,
run by the scheduler's trampoline with the Services' clock, and harmless when two processes run it."""

from __future__ import annotations

import datetime as dt

from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import func, select

from bot.scheduler import JobScheduler, default_jobs, refresh_only_jobs
from bot.store.limits_pruning import Pruned
from bot.store.schema import answered_questions, chat_replies
from bot.store.shared import Limits
from handlers.prune import PRUNE_SECONDS
from tests.jobs_support import Clock, at, make_config, make_services


def _rows(db, table) -> int:
    with db.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_it_is_a_posting_job_on_an_interval(tmp_path):
    config = make_config(tmp_path, "http://127.0.0.1:9")
    spec = {spec.id: spec for spec in default_jobs(config)}["prune-limits"]
    assert isinstance(spec.trigger, IntervalTrigger) and spec.trigger.interval == dt.timedelta(seconds=PRUNE_SECONDS)
    assert "prune-limits" not in {spec.id for spec in refresh_only_jobs(config)}  # a web beside a clock leaves it


async def test_the_trampoline_prunes_with_the_services_clock(tmp_path, http, fake_clock):
    config = make_config(tmp_path, "http://127.0.0.1:9", answer={"cooldown_seconds": 600})
    clock = Clock(at(2026, 11, 25, 12, 0))
    first, second = (make_services(config, http, clock, fake_clock) for _ in range(2))  # two processes
    now = clock().timestamp()
    limits = Limits(first.db, replies_per_minute=20, cooldown_seconds=600)
    limits.reserve_reply(("telegram", "-100"), now - 3600)
    limits.mark_sent(limits.reserve_reply(("telegram", "-100"), now - 7200), "telegram:-100:9:0")
    limits.reserve_reply(("telegram", "-100"), now - 10)
    limits.first_time(("telegram", "-100"), "怎么开户", now - 900)
    limits.first_time(("telegram", "-100"), "备付金利息归谁", now - 60)

    ran = await JobScheduler(first).trampoline("prune-limits")
    assert ran.results[("prune-limits", "")] == Pruned(replies=1, keyed_replies=1, cooldowns=1)
    again = await JobScheduler(second).trampoline("prune-limits")
    assert again.results[("prune-limits", "")] == Pruned(0, 0, 0)
    assert (_rows(first.db, chat_replies), _rows(first.db, answered_questions)) == (1, 1)
    clock.now += dt.timedelta(minutes=10)  # the clock moves: what was recent is now old
    await JobScheduler(second).trampoline("prune-limits")
    assert (_rows(first.db, chat_replies), _rows(first.db, answered_questions)) == (0, 0)
