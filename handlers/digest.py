"""The daily digest job: per chat, the day so far (or the previous day) from its live messages.

The text comes from the pure builder in bot/digest.py; this module gathers its inputs (the
live day, the same month-day of earlier years from the stored archive, the answer engine's
suggestions for unanswered questions), renders per platform (Markdown where the adapter takes
it) and posts once per (chat, date) through the ledger, with the hour chart where the platform
takes images.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable

from bot.archive.model import Day
from bot.chat import Outgoing
from bot.config import ChatSection
from bot.context import Context
from bot.digest import MAX_QUESTIONS, Digest, Suggestion, build_digest, hour_chart_png, pick_replay, render
from bot.links import day_url
from bot.open_questions import open_questions
from bot.router import Router
from bot.services import Services
from bot.store import answers, queries
from bot.store.days import earlier_same_date, live_day
from bot.topics import Background
from handlers.feedback import summary

log = logging.getLogger(__name__)
router = Router("digest")


def suggestions_for(services: Services, day: Day, background: Background) -> dict[int, Suggestion]:
    """The engine's confident answers to the open questions the digest lists."""
    engine = services.answers
    if engine is None:
        return {}
    services.erasures.catch_up(services)  # never suggest words erased since the engine last looked
    found: dict[int, Suggestion] = {}
    for question in open_questions(day, background)[:MAX_QUESTIONS]:
        try:
            result = engine.ask(question.message.text, day.group)
        except Exception as exc:  # noqa: BLE001 - a digest without suggestions is still a digest
            log.warning("answer engine failed on a digest question: %s", type(exc).__name__)
            continue
        suggestion = as_suggestion(result, day.date, services.config.bot.public_base_url, question.message.speaker)
        if suggestion is not None:
            found[question.position] = suggestion
    return found


BACKGROUND_DAYS = 180  # the stored days of the last half year: enough days to tell background from topic


def archive_background(services: Services, group: str, before: dt.date) -> Background:
    """Word frequency by day over the group's stored days before `before` (bot/topics.py)."""
    keys = [(group, info.date.isoformat()) for info in queries.list_days(services.db, group)
            if before - dt.timedelta(days=BACKGROUND_DAYS) <= info.date < before]
    return Background.of_days(queries.iter_days(services.db, zone=services.zone, keys=keys) if keys else ())


def as_suggestion(result, today: dt.date, base_url: str, asker: str = "") -> Suggestion | None:
    """The engine's answer (AskResult) as the digest's Suggestion, only when it is confident and
    the answer is someone else's (pointing the asker to their own old line helps nobody)."""
    if result is None or not result.answered or result.match is None:
        return None
    pair = result.match.pair
    if pair.date >= today:
        return None  # the same day's own talk is not "the archive"
    answer = next((a for a in pair.answers if a.speaker != pair.asker), None)
    if answer is None or answer.speaker == asker:
        return None
    return Suggestion(answer.text, answer.speaker, pair.date.isoformat(),
                      day_url(base_url, pair.group, pair.date, answer.time.time()))


def gather(services: Services, group: str, date: dt.date, until: dt.datetime | None) -> Digest:
    """Everything the digest of `group` on `date` needs, read from the store (sync: run in a thread)."""
    zone = services.zone
    day = live_day(services.db, group, date, zone, int(until.timestamp()) if until else None)
    earlier = earlier_same_date(services.db, group, date, zone)
    base = services.config.bot.public_base_url
    background = archive_background(services, group, date)
    return build_digest(day, suggestions=suggestions_for(services, day, background),
                        replay=pick_replay(earlier, base) if earlier else None,
                        partial_until=until, base_url=base, background=background)


def digest_date(ctx: Context) -> tuple[dt.date, dt.datetime | None]:
    if ctx.config.schedule.digest_scope == "previous_day":
        return ctx.today - dt.timedelta(days=1), None
    return ctx.today, ctx.now


def rendering(services: Services, chat: ChatSection, message_count: int,
              chart: Callable[[], bytes]) -> tuple[bool, bytes | None]:
    """(Markdown or plain, the chart or None) as the chat's platform can show them."""
    adapter = services.adapters.get(chat.platform)
    wants_chart = services.config.schedule.digest_chart and getattr(adapter, "supports_images", False)
    return getattr(adapter, "renders_markdown", False), chart() if wants_chart and message_count else None


def digest_messages(services: Services, chat: ChatSection, digest: Digest) -> list[Outgoing]:
    markdown, image = rendering(services, chat, digest.message_count, lambda: hour_chart_png(digest))
    text = render(digest, markdown=markdown)
    start = dt.datetime.combine(digest.date, dt.time(), services.zone)
    given = answers.counts(services.db, chat.platform, chat.chat_id, int(start.timestamp()),
                           int((start + dt.timedelta(days=1)).timestamp()))
    if line := summary(given):
        text += "\n\n" + line
    return [Outgoing(chat_id=chat.chat_id, text=text, markdown=markdown,
                     image_png=image, image_caption=f"{digest.date.isoformat()} 每小时消息数" if image else "")]


async def post_digest(ctx: Context, chat: ChatSection, period: str | None = None) -> bool:
    """One chat's digest, once per (chat, date) unless `period` says otherwise (e.g. /digest)."""
    date, until = digest_date(ctx)
    digest = await asyncio.to_thread(gather, ctx.services, chat.group, date, until)
    if digest.message_count == 0 and period is None:
        log.info("digest %s:%s: no messages on %s; nothing posted", chat.platform, chat.chat_id, date)
        return False
    messages = await asyncio.to_thread(digest_messages, ctx.services, chat, digest)
    return await ctx.post_once(chat, period or date.isoformat(), messages, job="digest")


@router.job("digest", at="digest_time")
async def digest_job(ctx: Context) -> None:
    """The scheduled run (schedule.digest_time): every configured chat. An admin's /digest runs
    it for one chat with its own ledger period, so it never blocks (or repeats) the scheduled one."""
    for chat in ctx.chats:
        await post_digest(ctx, chat, period=f"manual:{ctx.now:%Y-%m-%dT%H:%M}" if ctx.manual else None)
