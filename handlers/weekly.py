"""The weekly digest job: per chat, the seven days up to today (or up to yesterday).

Runs on `[schedule] weekly_digest_day` at `weekly_digest_time` (an empty time switches it off).
It reads each day the way the daily digest does (the live messages, or the stored archive day
for a date without live ones), the archive's background for the topics, and the same dates of
the most recent earlier year for "this week in the archive"; the text comes from bot/weekly.py.
Posted once per (chat, week) through the ledger, with the messages-per-day chart where the
platform takes images; the adapter splits the text at its limit between sections.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from bot.archive.model import Day
from bot.chat import Outgoing
from bot.config import ChatSection
from bot.context import Context
from bot.digest import MAX_QUESTIONS, Suggestion
from bot.router import Router
from bot.services import Services
from bot.store import queries
from bot.store.days import live_day
from bot.weekly import WeeklyDigest, build_week, open_questions_of, render_week, week_chart_png, week_dates
from handlers.digest import archive_background, as_suggestion, rendering

log = logging.getLogger(__name__)
router = Router("weekly")

EARLIER_YEARS = 5  # how far back "this week in the archive" looks for the same dates


def day_of(services: Services, group: str, date: dt.date, until: dt.datetime | None) -> Day | None:
    """The live messages of `date`, else the stored archive day."""
    day = live_day(services.db, group, date, services.zone, int(until.timestamp()) if until else None)
    if day.messages:
        return day
    stored = queries.load_day(services.db, group, date, services.zone)
    return stored if stored is not None and stored.messages else None


def earlier_week(services: Services, group: str, dates: list[dt.date]) -> list[Day]:
    """The same calendar dates in the most recent earlier year that has any of them stored."""
    for back in range(1, EARLIER_YEARS + 1):
        found = []
        for date in dates:
            try:
                then = date.replace(year=date.year - back)
            except ValueError:  # 29 February
                continue
            day = queries.load_day(services.db, group, then, services.zone)
            if day is not None and day.messages:
                found.append(day)
        if found:
            return found
    return []


def gather_week(services: Services, group: str, end: dt.date, until: dt.datetime | None) -> WeeklyDigest:
    """Everything the weekly digest of `group` needs (sync: run in a thread)."""
    dates = week_dates(end)
    days = [day for date in dates if (day := day_of(services, group, date, until if date == end else None))]
    background = archive_background(services, group, dates[0])
    base = services.config.bot.public_base_url
    suggestions: dict[tuple[dt.date, int], Suggestion] = {}
    if services.answers is not None:
        services.erasures.catch_up(services)  # never suggest words erased since the engine last looked
        for day, question in open_questions_of(days, background)[:MAX_QUESTIONS]:
            try:
                result = services.answers.ask(question.message.text, group)
            except Exception as exc:  # noqa: BLE001 - a digest without suggestions is still a digest
                log.warning("answer engine failed on a weekly digest question: %s", type(exc).__name__)
                continue
            suggestion = as_suggestion(result, dates[0], base, question.message.speaker)
            if suggestion is not None:
                suggestions[(day.date, question.position)] = suggestion
    return build_week(days, end, background=background, earlier=earlier_week(services, group, dates),
                      suggestions=suggestions, partial_until=until, base_url=base)


def week_messages(services: Services, chat: ChatSection, week: WeeklyDigest) -> list[Outgoing]:
    markdown, image = rendering(services, chat, week.message_count, lambda: week_chart_png(week))
    return [Outgoing(chat_id=chat.chat_id, text=render_week(week, markdown=markdown, group=chat.group),
                     markdown=markdown, image_png=image,
                     image_caption=f"{week.start.isoformat()} – {week.end.isoformat()} 每天消息数" if image else "")]


@router.job("weekly_digest", at="weekly_digest_time", weekday="weekly_digest_day")
async def weekly_digest_job(ctx: Context) -> None:
    """The scheduled run: every configured chat, once per (chat, week)."""
    if ctx.config.schedule.digest_scope == "previous_day":
        end, until = ctx.today - dt.timedelta(days=1), None
    else:
        end, until = ctx.today, ctx.now
    for chat in ctx.chats:
        week = await asyncio.to_thread(gather_week, ctx.services, chat.group, end, until)
        if not week.message_count and not ctx.manual:
            log.info("weekly digest %s:%s: no messages in the week to %s", chat.platform, chat.chat_id, end)
            continue
        messages = await asyncio.to_thread(week_messages, ctx.services, chat, week)
        period = f"manual:{ctx.now:%Y-%m-%dT%H:%M}" if ctx.manual else f"week-to-{end.isoformat()}"
        await ctx.post_once(chat, period, messages, job="weekly_digest")
