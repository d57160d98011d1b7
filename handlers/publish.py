"""Rule 2.7, the nightly publication: yesterday's live messages become an archive day file.

After midnight each group's live messages of the previous day (from every chat mapped to that
group, merged in time order) are written with the archive writer into `archive.publish_dir`,
ingested into the store like any archived day, and handed to the answer engine, so tomorrow's
questions can be answered from today's answers.

Idempotent: the ledger key is (publish, group, date:content-hash). The same content is published
once however many clocks run; a day that changed after late edits gets a new hash and replaces
the file and the stored day (the writer overwrites atomically, the ingest replaces by date).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from bot.archive.model import Day
from bot.archive.reader import ReadOptions
from bot.archive.writer import render_day, write_day
from bot.config import Config
from bot.context import Context
from bot.router import Router
from bot.services import Services
from bot.store import ledger
from bot.store.days import live_day

log = logging.getLogger(__name__)
router = Router("publish")


def published_groups(config: Config) -> list[str]:
    """Each group that a configured chat feeds, once, in config order."""
    return list(dict.fromkeys(chat.group for chat in config.chats))


@dataclass(frozen=True, slots=True)
class Published:
    group: str
    date: dt.date
    messages: int
    path: Path | None  # None when nothing was written (no messages, or already published)
    status: str  # "published" | "unchanged" | "empty"


def _read_options(config: Config) -> ReadOptions:
    return ReadOptions.of(config)


def publish_day_sync(services: Services, group: str, date: dt.date, now_ts: int) -> tuple[Published, Day | None]:
    """Write and ingest one group's day unless this exact content was already published."""
    from bot.store.ingest import ingest_day

    config = services.config
    several = sum(1 for chat in config.chats if chat.group == group) > 1
    day = live_day(services.db, group, date, services.zone, several_chats=several)
    if not day.messages:
        return Published(group, date, 0, None, "empty"), None
    rendered = render_day(day)
    digest = hashlib.sha256(rendered.encode("utf-8")).hexdigest()[:16]
    key = ledger.RunKey("publish", f"group:{group}", f"{date.isoformat()}:{digest}")
    if not ledger.claim(services.db, key, f"{len(day.messages)} messages", now_ts):
        return Published(group, date, len(day.messages), None, "unchanged"), None
    try:
        path = write_day(day, config.archive.publish_dir)
        ingest_day(services.db, day, options=_read_options(config))
    except Exception:
        ledger.release(services.db, key)  # the next run (or the retry) publishes it again
        raise
    ledger.mark_delivered(services.db, key, now_ts, (str(path),))
    return Published(group, date, len(day.messages), path, "published"), day


async def publish(services: Services, date: dt.date, now_ts: int) -> list[Published]:
    """Publish every group's `date`, then refresh the answer engine with the changed days."""
    results, changed = [], []
    for group in published_groups(services.config):
        result, day = await asyncio.to_thread(publish_day_sync, services, group, date, now_ts)
        results.append(result)
        if day is not None:
            changed.append(day)
        log.info("publish %s %s: %s (%d messages)", group, date, result.status, result.messages)
    if changed and services.answers is not None:
        await _refresh_answers(services, changed)
    return results


async def _refresh_answers(services: Services, changed: list[Day]) -> None:
    """The engine re-indexes only the changed days (`update_days`), off the event loop."""
    update = getattr(services.answers, "update_days", None)
    if update is None:
        log.warning("answer engine has no update_days; published days are indexed at the next start")
        return
    await asyncio.to_thread(update, changed)


@router.job("publish", at="publish_time")
async def publish_job(ctx: Context) -> None:
    """The scheduled run: the day before today (the job runs after midnight)."""
    await publish(ctx.services, ctx.today - dt.timedelta(days=1), int(ctx.now.timestamp()))


# -- web processes that do not run the jobs ------------------------------------------------------
REFRESH_SECONDS = 600  # how soon a web process answers from a day that the clock process published


@router.job("refresh-answers", every=REFRESH_SECONDS, web_only=True)
async def refresh_job(ctx: Context) -> None:
    """In a web process without the scheduled jobs: load the days the clock published since."""
    services = ctx.services
    if services.answers is None:
        return  # still loading: it will read everything from the store anyway
    seen = services.published_seen
    if seen is None:  # first run after the index loaded from the store: it has everything so far
        services.published_seen, _ = await asyncio.to_thread(ledger.published_since, services.db, 0)
        return
    last, keys = await asyncio.to_thread(ledger.published_since, services.db, seen)
    if keys:
        await asyncio.to_thread(services.answers.refresh_from_store, services.db, keys,
                                zone=services.config.bot.timezone)
        log.info("answer index refreshed with %d published day(s)", len(keys))
    services.published_seen = last
