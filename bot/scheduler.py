"""The scheduled jobs: one APScheduler AsyncIOScheduler, one trampoline, one error handler.

Shaped like python-telegram-bot's JobQueue: APScheduler only ever calls `JobScheduler.trampoline`
with a job id; the trampoline builds a `Context` from the Services (no globals) and runs the
job's handler; every failure goes to one error handler. Jobs are plain `async def job(ctx)`
functions that handler modules declare with `@router.job(...)` (bot/router.py); the scheduler
turns each declaration into a trigger from the `[schedule]` config. Jobs can be run directly
(`JobScheduler.run`) by tests and the CLI, and by admin commands through `run_job`, with the
Services' clock deciding "now".

Posting goes through `Context.post_once`, which claims a ledger row (bot/store/ledger.py) before
sending, so every job is idempotent across restarts, misfire catch-ups and several clocks.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot import metrics
from bot.config import ChatSection, Config
from bot.context import Context
from bot.router import Job, Router, load_handlers
from bot.services import SERVICES, Services

log = logging.getLogger(__name__)

JobHandler = Callable[[Context], Awaitable[None]]


JobContext = Context  # jobs get the same context as commands (bot/context.py)


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


def trigger_of(job: Job, config: Config) -> BaseTrigger | None:
    """The job's trigger under `config`; None when its `[schedule]` time is empty (switched off)."""
    zone = config.bot.timezone
    if job.every:
        return IntervalTrigger(seconds=job.every, timezone=zone)
    hhmm = getattr(config.schedule, job.at)
    if not hhmm:
        return None
    extra = {"day": getattr(config.schedule, job.day)} if job.day else {}
    if job.weekday:
        extra["day_of_week"] = getattr(config.schedule, job.weekday)
    return clock_trigger(hhmm, zone, **extra)


def jobs_of(router: Router, config: Config, *, web_only: bool = False) -> list[JobSpec]:
    """The declared jobs as specs: the posting jobs, or (`web_only`) those of a web process that
    leaves posting to a separate clock. Ids are fixed so that a restart replaces rather than adds."""
    specs = []
    for job in router.jobs:
        trigger = trigger_of(job, config) if job.web_only == web_only else None
        if trigger is not None:
            specs.append(JobSpec(job.id, job.handler, trigger))
    return specs


def default_jobs(config: Config) -> list[JobSpec]:
    """The configured jobs of the configured handler modules."""
    return jobs_of(load_handlers(config), config)


ErrorHandler = Callable[[Context, BaseException], Awaitable[None]]


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
            self.scheduler.add_job(self.scheduled, spec.trigger, args=[spec.id], id=spec.id,
                                   name=spec.id, replace_existing=True)

    # -- running ----------------------------------------------------------------------------------
    async def scheduled(self, job_id: str, retry: bool = False) -> None:
        """What APScheduler runs: the job, and one quiet line instead of a traceback when the clock
        stops while it runs (Ctrl-C, shutdown); the job's ledger says what is left for the next run."""
        try:
            await self.trampoline(job_id, retry)
        except asyncio.CancelledError:
            log.info("job %s stopped: the clock is shutting down", job_id)

    async def trampoline(self, job_id: str, retry: bool = False, *, chat: ChatSection | None = None,
                         manual: bool = False) -> Context:
        """The only callable APScheduler knows: build the context, run the job, route errors.
        `chat` and `manual` are an admin's run for one chat (never retried: the admin sees it)."""
        async with self._locks.setdefault(job_id, asyncio.Lock()):  # a retry or catch-up never overlaps
            ctx = Context(self.services, job_id=job_id, only_chat=chat, manual=manual)
            try:
                await self.jobs[job_id].handler(ctx)
                if ctx.failures:
                    raise JobFailed("; ".join(ctx.failures))
                metrics.JOB_RUNS.labels(job_id, "ok").inc()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - one job's failure must not stop the clock
                metrics.JOB_RUNS.labels(job_id, "failed").inc()
                await self.error_handler(ctx, exc)
                if isinstance(exc, JobFailed) and not retry:
                    self.schedule_retry(job_id)
            return ctx

    async def run(self, job_id: str, *, chat: ChatSection | None = None, manual: bool = False) -> Context:
        """Run a job now, outside its schedule (tests, `/digest`, the CLI); errors are handled."""
        if job_id not in self.jobs:
            raise KeyError(f"no job {job_id!r}; known: {', '.join(self.jobs)}")
        return await self.trampoline(job_id, retry=True, chat=chat, manual=manual)

    def schedule_retry(self, job_id: str) -> None:
        """Run the job once more after `schedule.retry_seconds` (released claims get posted then)."""
        when = self.services.now() + dt.timedelta(seconds=self.services.config.schedule.retry_seconds)
        self.scheduler.add_job(self.scheduled, DateTrigger(when), args=[job_id, True],
                               id=f"{job_id}:retry", name=f"{job_id} (retry)", replace_existing=True)

    async def _log_error(self, ctx: Context, exc: BaseException) -> None:
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
            self.scheduler.add_job(self.scheduled, DateTrigger(now), args=[job_id], id=f"{job_id}:catch-up",
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


def refresh_only_jobs(config: Config | None = None) -> list[JobSpec]:
    """What a web process runs when a separate clock runs the jobs (the `web_only` jobs: the
    answer refresh that re-reads the days the clock published). Nothing is posted."""
    config = config or Config()
    return jobs_of(load_handlers(config), config, web_only=True)


async def run_job(services: Services, job_id: str, chat: ChatSection) -> Context:
    """An admin's run of a job for one chat, through the same trampoline as the scheduled runs
    (ledger, error handler, one run of a job at a time); in a web process whose scheduler does not
    hold the posting jobs, through a scheduler of its own that is never started."""
    scheduler = services.scheduler
    if scheduler is None or job_id not in scheduler.jobs:
        scheduler = JobScheduler(services, [spec for spec in default_jobs(services.config) if spec.id == job_id])
    return await scheduler.run(job_id, chat=chat, manual=True)


async def scheduler_context(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx for the aiohttp app: the jobs, or only the answer refresh when
    server.run_scheduler is false (a separate `archive-bot clock` posts)."""
    services = app[SERVICES]
    run_jobs = services.config.server.run_scheduler
    scheduler = JobScheduler(services, None if run_jobs else refresh_only_jobs(services.config))
    scheduler.start()
    services.scheduler = scheduler  # admin commands run their jobs through it (`run_job`)
    try:
        yield
    finally:
        scheduler.shutdown()
        await asyncio.sleep(0)  # AsyncIOScheduler.shutdown runs via call_soon_threadsafe: let it
        services.scheduler = None
