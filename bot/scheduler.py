"""The scheduled jobs: one APScheduler AsyncIOScheduler, one trampoline, one error handler.

Shaped like python-telegram-bot's JobQueue: APScheduler only ever calls `JobScheduler.trampoline`
with a job id; the trampoline builds a `JobContext` from the Services (no globals) and runs the
job's handler; every failure goes to one error handler. Jobs are plain `async def job(ctx)`
functions in handlers/ and can be run directly (`JobScheduler.run`) by tests, the CLI and the
admin commands, with the Services' clock deciding "now".

Posting goes through `JobContext.post_once`, which claims a ledger row (bot/ledger.py) before
sending, so every job is idempotent across restarts, misfire catch-ups and several clocks.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from sqlalchemy import Connection

from bot import ledger
from bot.chat import Outgoing, Sent
from bot.config import ChatSection, Config
from bot.services import SERVICES, Services

log = logging.getLogger(__name__)

JobHandler = Callable[["JobContext"], Awaitable[None]]


@dataclass
class JobContext:
    """What a job gets: the Services, its id, the time it runs for, and an idempotent `post_once`."""

    services: Services
    job_id: str
    now: dt.datetime
    failures: list[str] = field(default_factory=list)  # "chat: reason" of sends that failed
    posted: list[Outgoing] = field(default_factory=list)  # what this run delivered (tests, CLI)

    @property
    def config(self) -> Config:
        return self.services.config

    @property
    def today(self) -> dt.date:
        return self.now.astimezone(self.services.zone).date()

    async def db(self, fn: Callable, /, *args, **kwargs):
        """Run a sync store call off the event loop."""
        return await asyncio.to_thread(fn, *args, **kwargs)

    async def post_once(self, chat: ChatSection, period: str, messages: Sequence[Outgoing], *,
                        job: str | None = None, on_claim: Callable[[Connection], None] | None = None,
                        on_release: Callable[[Connection], None] | None = None) -> bool:
        """Send `messages` unless (job, chat, period) was already claimed; True when this run sent.

        Claim and send record are committed before the first send; a failure before anything went
        out releases the claim (and runs `on_release`) so a retry posts it; a failure after part of
        the messages went out keeps the claim (a retry would repeat what was delivered).
        """
        if not messages:
            return False
        adapter = self.services.adapters.get(chat.platform)
        key = ledger.RunKey(job or self.job_id, f"{chat.platform}:{chat.chat_id}", period)
        if adapter is None:
            self.failures.append(f"{key.chat}: no adapter for platform {chat.platform}")
            return False
        text = "\n\n".join(message.text for message in messages)
        claimed = await self.db(ledger.claim, self.services.db, key, text, int(self.now.timestamp()), on_claim=on_claim)
        if not claimed:
            log.info("%s for %s period %s already posted; skipped", key.job, key.chat, period)
            return False
        ids: list[str] = []
        sent_count = 0
        try:
            for message in messages:
                sent: Sent = await adapter.send(message)
                ids.extend(sent.message_ids if sent else ())
                sent_count += 1
                self.posted.append(message)
        except Exception as exc:  # noqa: BLE001 - reported through the error handler
            self.failures.append(f"{key.chat}: {type(exc).__name__}: {str(exc)[:200]}")
            if sent_count == 0:
                await self.db(ledger.release, self.services.db, key, on_release=on_release)
                return False
        await self.db(ledger.mark_delivered, self.services.db, key, int(self.services.now().timestamp()), tuple(ids))
        return True


class JobFailed(Exception):
    """A job's sends failed (claims released): the error handler schedules one retry."""


def clock_trigger(hhmm: str, zone, **extra) -> CronTrigger:
    hour, minute = (int(part) for part in hhmm.split(":"))
    return CronTrigger(hour=hour, minute=minute, timezone=zone, **extra)


@dataclass(frozen=True, slots=True)
class JobSpec:
    id: str
    handler: JobHandler
    trigger: BaseTrigger


def default_jobs(config: Config) -> list[JobSpec]:
    """The configured jobs, ids fixed so that a restart replaces rather than adds."""
    from handlers import digest, inactivity, nicknames, publish, welcome

    zone = config.bot.timezone
    schedule = config.schedule
    jobs = [
        JobSpec("publish", publish.publish_job, clock_trigger(schedule.publish_time, zone)),
        JobSpec("nicknames", nicknames.nickname_job, clock_trigger(schedule.nickname_time, zone)),
        JobSpec("digest", digest.digest_job, clock_trigger(schedule.digest_time, zone)),
        JobSpec("inactivity", inactivity.inactivity_job,
                clock_trigger(schedule.inactivity_time, zone, day=schedule.inactivity_day)),
    ]
    if schedule.rules_post_time:
        jobs.append(JobSpec("rules", welcome.rules_job, clock_trigger(schedule.rules_post_time, zone)))
    return jobs


ErrorHandler = Callable[["JobContext", BaseException], Awaitable[None]]


class JobScheduler:
    """Owns the AsyncIOScheduler; APScheduler calls only `trampoline(job_id)`."""

    def __init__(self, services: Services, jobs: Sequence[JobSpec] | None = None,
                 error_handler: ErrorHandler | None = None) -> None:
        self.services = services
        self.jobs = {spec.id: spec for spec in (default_jobs(services.config) if jobs is None else jobs)}
        self.error_handler = error_handler or self._log_error
        self._locks: dict[str, asyncio.Lock] = {}
        schedule = services.config.schedule
        self.scheduler = AsyncIOScheduler(timezone=services.zone, job_defaults={
            "coalesce": True,  # many missed runs = one run
            "max_instances": 1,
            "misfire_grace_time": schedule.misfire_grace_seconds,
        })
        for spec in self.jobs.values():
            self.scheduler.add_job(self.trampoline, spec.trigger, args=[spec.id], id=spec.id,
                                   name=spec.id, replace_existing=True)

    # -- running ----------------------------------------------------------------------------------
    async def trampoline(self, job_id: str, retry: bool = False) -> JobContext:
        """The only callable APScheduler knows: build the context, run the job, route errors."""
        async with self._locks.setdefault(job_id, asyncio.Lock()):  # a retry or catch-up never overlaps
            ctx = JobContext(self.services, job_id, self.services.now())
            try:
                await self.jobs[job_id].handler(ctx)
                if ctx.failures:
                    raise JobFailed("; ".join(ctx.failures))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - one job's failure must not stop the clock
                await self.error_handler(ctx, exc)
                if isinstance(exc, JobFailed) and not retry:
                    self.schedule_retry(job_id)
            return ctx

    async def run(self, job_id: str) -> JobContext:
        """Run a job now, outside its schedule (tests, `/digest`, the CLI); errors are handled."""
        if job_id not in self.jobs:
            raise KeyError(f"no job {job_id!r}; known: {', '.join(self.jobs)}")
        return await self.trampoline(job_id, retry=True)

    def schedule_retry(self, job_id: str) -> None:
        """Run the job once more after `schedule.retry_seconds` (released claims get posted then)."""
        when = self.services.now() + dt.timedelta(seconds=self.services.config.schedule.retry_seconds)
        self.scheduler.add_job(self.trampoline, DateTrigger(when), args=[job_id, True],
                               id=f"{job_id}:retry", name=f"{job_id} (retry)", replace_existing=True)

    async def _log_error(self, ctx: JobContext, exc: BaseException) -> None:
        log.error("job %s failed: %s: %s", ctx.job_id, type(exc).__name__, str(exc)[:500],
                  exc_info=not isinstance(exc, JobFailed))

    # -- lifecycle --------------------------------------------------------------------------------
    def start(self, paused: bool = False) -> None:
        """Start (inside the running event loop); `paused` adds the jobs without running them.

        APScheduler's memory job store forgets runs missed while the process was down, so a job
        whose time passed less than `misfire_grace_seconds` ago runs once now (the ledger makes
        that harmless when it had in fact run before the restart).
        """
        self.scheduler.start(paused=paused)
        now = self.services.now()
        for job_id in self.due_for_catch_up(now):
            log.info("job %s missed its time during a restart; running it now", job_id)
            self.scheduler.add_job(self.trampoline, DateTrigger(now), args=[job_id], id=f"{job_id}:catch-up",
                                   name=f"{job_id} (catch-up)", replace_existing=True)
        for job in self.scheduler.get_jobs():
            log.info("job %s next at %s", job.id, job.next_run_time)

    def due_for_catch_up(self, now: dt.datetime) -> list[str]:
        """Jobs whose last fire time lies within the misfire grace period before `now`."""
        grace = dt.timedelta(seconds=self.services.config.schedule.misfire_grace_seconds)
        due = []
        for job_id, spec in self.jobs.items():
            when = spec.trigger.get_next_fire_time(None, now - grace)
            if when is not None and when <= now:
                due.append(job_id)
        return due

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    def next_runs(self, now: dt.datetime) -> dict[str, dt.datetime | None]:
        """When each job fires next after `now` (what `archive-bot clock --dry-run` prints)."""
        return {job_id: spec.trigger.get_next_fire_time(None, now) for job_id, spec in self.jobs.items()}


def refresh_only_jobs() -> list[JobSpec]:
    """What a web process runs when a separate clock runs the jobs: it only re-reads the days the
    clock published, so its answer engine knows yesterday's answers too. Nothing is posted."""
    from apscheduler.triggers.interval import IntervalTrigger

    from handlers.publish import REFRESH_SECONDS, refresh_job

    return [JobSpec("refresh-answers", refresh_job, IntervalTrigger(seconds=REFRESH_SECONDS))]


async def scheduler_context(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx for the aiohttp app: the jobs, or only the answer refresh when
    server.run_scheduler is false (a separate `archive-bot clock` posts)."""
    services = app[SERVICES]
    run_jobs = services.config.server.run_scheduler
    scheduler = JobScheduler(services, None if run_jobs else refresh_only_jobs())
    scheduler.start()
    services.extras["scheduler"] = scheduler  # the app is frozen by now; admin commands find it here
    try:
        yield
    finally:
        scheduler.shutdown()
        await asyncio.sleep(0)  # AsyncIOScheduler.shutdown runs via call_soon_threadsafe: let it
        services.extras.pop("scheduler", None)
