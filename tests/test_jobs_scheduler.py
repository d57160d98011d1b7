"""The scheduler: triggers from config, the trampoline, and posting exactly once.

No test sleeps: jobs are run through the trampoline with a controlled clock, and trigger fields
and next run times are asserted directly.
"""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from bot.store import ledger
from bot.chat import Member
from bot.scheduler import JobScheduler, JobSpec, default_jobs
from tests.jobs_support import ZONE, Clock, at, incoming, make_config, make_services, store

ALICE = Member("501", "赵一-甲支付-产品-上海")
BOB = Member("502", "钱二-乙科技-架构-北京")


@pytest.fixture
def config(tmp_path, telegram_api):
    return make_config(tmp_path, telegram_api.api_base,
                       schedule={"digest_time": "22:00", "nickname_time": "06:45", "publish_time": "00:10",
                                 "inactivity_day": 1, "inactivity_time": "09:00", "rules_post_time": "19:00",
                                 "misfire_grace_seconds": 900})


async def _a_day_of_talk(services):
    await store(services, [
        incoming(ALICE, "请问备付金账户的利息归谁？", at(2018, 2, 28, 9, 0)),
        incoming(BOB, "按规定利息归支付机构，但要计提风险准备金。", at(2018, 2, 28, 9, 2)),
        incoming(ALICE, "明白了，谢谢", at(2018, 2, 28, 9, 3)),
    ])


def _digests(telegram_api) -> list[dict]:
    return [p for p in telegram_api.sent("sendMessage") if "群日报" in p["text"]]


def test_jobs_have_fixed_ids_and_configured_triggers(config, http, fake_clock):
    services = make_services(config, http, Clock(at(2018, 2, 28, 21, 0)), fake_clock)
    scheduler = JobScheduler(services)
    assert set(scheduler.jobs) == {"publish", "nicknames", "digest", "inactivity", "rules", "weekly_digest", "refit",
                                   "prune-limits"}
    fields = {f.name: str(f) for f in scheduler.jobs["digest"].trigger.fields}
    assert (fields["hour"], fields["minute"], fields["day"]) == ("22", "0", "*")
    assert str(scheduler.jobs["digest"].trigger.timezone) == "Asia/Shanghai"
    inactivity = {f.name: str(f) for f in scheduler.jobs["inactivity"].trigger.fields}
    assert (inactivity["day"], inactivity["hour"]) == ("1", "9")
    runs = scheduler.next_runs(at(2018, 2, 28, 21, 0))
    assert runs["digest"] == at(2018, 2, 28, 22, 0)
    assert runs["nicknames"] == at(2018, 3, 1, 6, 45)
    assert runs["publish"] == at(2018, 3, 1, 0, 10)
    assert runs["inactivity"] == at(2018, 3, 1, 9, 0)
    assert runs["rules"] == at(2018, 3, 1, 19, 0)  # 19:00 already passed on the 28th
    assert runs["weekly_digest"] == at(2018, 3, 4, 21, 0)  # the Wednesday's next Sunday, 21:00 by default


def test_no_rules_job_unless_a_time_is_configured(tmp_path):
    assert "rules" not in {spec.id for spec in default_jobs(make_config(tmp_path, "http://127.0.0.1:9"))}


async def test_apscheduler_gets_coalesce_max_instances_and_grace(config, http, fake_clock):
    scheduler = JobScheduler(make_services(config, http, Clock(at(2018, 2, 28, 21, 0)), fake_clock))
    scheduler.start(paused=True)  # paused: the jobs are added with their defaults but never fire
    try:
        job = scheduler.scheduler.get_job("digest")
        assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, 900)
        assert job.args == ("digest",) and job.func == scheduler.scheduled
    finally:
        scheduler.shutdown()


async def test_digest_posts_once_even_after_a_restart(config, http, fake_clock, telegram_api):
    clock = Clock(at(2018, 2, 28, 22, 0, 5))
    first = make_services(config, http, clock, fake_clock)
    await _a_day_of_talk(first)
    await JobScheduler(first).trampoline("digest")
    assert len(_digests(telegram_api)) == 1
    assert len(telegram_api.sent("sendPhoto")) == 1  # Telegram takes images: the hour chart
    # A restart (new Services, new engine, same file) and APScheduler's misfire catch-up run it again.
    clock.now = at(2018, 2, 28, 22, 20)
    restarted = make_services(config, http, clock, fake_clock)
    await JobScheduler(restarted).trampoline("digest")
    assert len(_digests(telegram_api)) == 1
    (row,) = ledger.runs(restarted.db, "digest")
    assert (row["chat"], row["period"], row["status"]) == ("telegram:-100777", "2018-02-28", "delivered")
    # The next day is a new period.
    clock.now = at(2018, 3, 1, 22, 0)
    await store(restarted, [incoming(BOB, "今天讨论清分", at(2018, 3, 1, 10, 0))])
    await JobScheduler(restarted).trampoline("digest")
    assert len(_digests(telegram_api)) == 2


async def test_two_clocks_against_one_database_post_once(config, http, fake_clock, telegram_api):
    clock = Clock(at(2018, 2, 28, 22, 0))
    one, two = (make_services(config, http, clock, fake_clock) for _ in range(2))
    await _a_day_of_talk(one)
    await asyncio.gather(JobScheduler(one).trampoline("digest"), JobScheduler(two).trampoline("digest"))
    assert len(_digests(telegram_api)) == 1
    assert len(ledger.runs(one.db, "digest")) == 1


async def test_failed_send_releases_the_claim_and_schedules_one_retry(config, http, fake_clock, telegram_api):
    clock = Clock(at(2018, 2, 28, 22, 0))
    services = make_services(config, http, clock, fake_clock)
    await _a_day_of_talk(services)
    errors = []

    async def on_error(ctx, exc):
        errors.append((ctx.job_id, type(exc).__name__))

    scheduler = JobScheduler(services, error_handler=on_error)
    telegram_api.fail_next(400)
    await scheduler.trampoline("digest")
    assert errors == [("digest", "JobFailed")]
    assert len(_digests(telegram_api)) == 1  # the fake records the refused request too
    assert ledger.runs(services.db, "digest") == []  # released: nothing claims the period
    retry = scheduler.scheduler.get_job("digest:retry")
    assert retry is not None and retry.trigger.run_date == clock.now + dt.timedelta(seconds=300)
    await scheduler.trampoline("digest", retry=True)  # what the retry job does when it fires
    assert len(_digests(telegram_api)) == 2
    await scheduler.trampoline("digest", retry=True)  # and never more than once
    assert len(_digests(telegram_api)) == 2
    assert ledger.runs(services.db, "digest")[0]["status"] == "delivered"


async def test_job_errors_go_to_the_one_error_handler(config, http, fake_clock):
    services = make_services(config, http, Clock(at(2018, 2, 28, 22, 0)), fake_clock)
    seen = []

    async def broken(ctx):
        raise ValueError("boom")

    async def on_error(ctx, exc):
        seen.append((ctx.job_id, ctx.now, str(exc)))

    scheduler = JobScheduler(services, [JobSpec("broken", broken, default_jobs(config)[0].trigger)], on_error)
    await scheduler.run("broken")
    assert seen == [("broken", at(2018, 2, 28, 22, 0), "boom")]
    with pytest.raises(KeyError):
        await scheduler.run("nope")


async def test_scheduler_context_starts_and_stops_with_the_app(config, http, fake_clock):
    from aiohttp import web

    from bot.scheduler import scheduler_context
    from bot.services import SERVICES

    app = web.Application()
    services = make_services(config, http, Clock(at(2018, 2, 28, 21, 0)), fake_clock)
    app[SERVICES] = services
    context = scheduler_context(app)
    await context.__anext__()
    scheduler = services.scheduler
    assert scheduler.scheduler.running
    assert scheduler.scheduler.get_job("digest").next_run_time.tzinfo is not None
    with pytest.raises(StopAsyncIteration):
        await context.__anext__()
    assert not scheduler.scheduler.running and services.scheduler is None
    off = config.model_copy(update={"server": config.server.model_copy(update={"run_scheduler": False})})
    app2 = web.Application()
    app2[SERVICES] = make_services(off, http, Clock(at(2018, 2, 28, 21, 0)), fake_clock)
    context = scheduler_context(app2)
    await context.__anext__()  # a web process beside a separate clock: only the answer refresh
    assert set(app2[SERVICES].scheduler.jobs) == {"refresh-answers"}
    with pytest.raises(StopAsyncIteration):
        await context.__anext__()


def test_zone_is_the_bot_zone(config, http, fake_clock):
    services = make_services(config, http, Clock(at(2018, 2, 28, 21, 0)), fake_clock)
    assert JobScheduler(services).scheduler.timezone == ZONE


async def test_a_restart_within_the_grace_period_catches_up_once(config, http, fake_clock, telegram_api):
    clock = Clock(at(2018, 2, 28, 22, 10))  # the process was down at 22:00; grace is 900 s
    services = make_services(config, http, clock, fake_clock)
    await _a_day_of_talk(services)
    scheduler = JobScheduler(services)
    assert scheduler.due_for_catch_up(clock.now) == ["digest"]
    assert scheduler.due_for_catch_up(at(2018, 2, 28, 22, 16)) == []  # past the grace period
    assert scheduler.due_for_catch_up(at(2018, 3, 1, 0, 12)) == ["publish"]
    scheduler.start(paused=True)
    try:
        catch_up = scheduler.scheduler.get_job("digest:catch-up")
        assert catch_up is not None and catch_up.args == ("digest",)
        assert catch_up.next_run_time == clock.now
    finally:
        scheduler.shutdown()
    await scheduler.trampoline(*catch_up.args)  # what the catch-up does when it fires
    await JobScheduler(make_services(config, http, clock, fake_clock)).trampoline("digest")  # and again
    assert len(_digests(telegram_api)) == 1
