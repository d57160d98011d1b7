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
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select

from bot.archive.model import Day, Message, MessageKind
from bot.chat import Outgoing
from bot.config import ChatSection
from bot.context import Context
from bot.digest import MAX_QUESTIONS, Digest, Suggestion, build_digest, hour_chart_png, pick_replay, render
from bot.links import day_url
from bot.open_questions import open_questions
from bot.router import Router
from bot.services import Services
from bot.store import answers, queries
from bot.store.schema import days, groups, messages
from bot.topics import Background
from handlers.feedback import summary
from handlers.publish import live_day

log = logging.getLogger(__name__)
router = Router("digest")


def stored_day(engine: Engine, group: str, date: dt.date, zone: ZoneInfo) -> Day | None:
    """An archived day from the store (messages table), or None."""
    with engine.connect() as conn:
        row = conn.execute(select(days.c.id, days.c.title, days.c.author).join(groups, groups.c.id == days.c.group_id)
                           .where(groups.c.name == group, days.c.date == date.isoformat())).first()
        if row is None:
            return None
        day = Day(group=group, date=date, title=row.title, author=row.author)
        for ts, speaker, text, kind, mentions, image_url in conn.execute(
                select(messages.c.ts, messages.c.speaker, messages.c.text, messages.c.kind, messages.c.mentions,
                       messages.c.image_url).where(messages.c.day_id == row.id).order_by(messages.c.seq)):
            day.messages.append(Message(dt.datetime.fromtimestamp(ts, zone), speaker, text, MessageKind(kind),
                                        tuple(mentions or ()), image_url))
    return day


def earlier_same_date(engine: Engine, group: str, date: dt.date, zone: ZoneInfo) -> Day | None:
    """The most recent earlier year's stored day with the same month-day (for the replay)."""
    with engine.connect() as conn:
        dates = [d for (d,) in conn.execute(
            select(days.c.date).join(groups, groups.c.id == days.c.group_id)
            .where(groups.c.name == group, days.c.date.like(f"%-{date:%m-%d}"), days.c.date < date.isoformat())
            .order_by(days.c.date.desc()))]
    for text in dates:
        day = stored_day(engine, group, dt.date.fromisoformat(text), zone)
        if day is not None and day.messages:
            return day
    return None


def suggestions_for(services: Services, day: Day, background: Background) -> dict[int, Suggestion]:
    """The engine's confident answers to the open questions the digest lists."""
    engine = services.answers
    if engine is None:
        return {}
    found: dict[int, Suggestion] = {}
    for question in open_questions(day, background)[:MAX_QUESTIONS]:
        try:
            result = engine.ask(question.message.text, day.group)
        except Exception as exc:  # noqa: BLE001 - a digest without suggestions is still a digest
            log.warning("answer engine failed on a digest question: %s", type(exc).__name__)
            continue
        suggestion = as_suggestion(result, day.date, services.config.bot.public_base_url)
        if suggestion is not None:
            found[question.position] = suggestion
    return found


BACKGROUND_DAYS = 365  # the archive's background: the group's stored days of the last year


def archive_background(services: Services, group: str, before: dt.date) -> Background:
    """Word frequency by day over the group's stored days before `before` (bot/topics.py)."""
    keys = [(group, info.date.isoformat()) for info in queries.list_days(services.db, group)
            if before - dt.timedelta(days=BACKGROUND_DAYS) <= info.date < before]
    return Background.of_days(queries.iter_days(services.db, zone=services.zone, keys=keys) if keys else ())


def as_suggestion(result, today: dt.date, base_url: str) -> Suggestion | None:
    """The engine's answer (AskResult) as the digest's Suggestion, only when it is confident."""
    if result is None or not result.answered or result.match is None:
        return None
    pair = result.match.pair
    if pair.date >= today:
        return None  # the same day's own talk is not "the archive"
    answer = next((a for a in pair.answers if a.speaker != pair.asker), None)
    if answer is None:
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


def digest_messages(services: Services, chat: ChatSection, digest: Digest) -> list[Outgoing]:
    adapter = services.adapters.get(chat.platform)
    markdown = getattr(adapter, "renders_markdown", False)
    image = None
    if services.config.schedule.digest_chart and getattr(adapter, "supports_images", False) and digest.message_count:
        image = hour_chart_png(digest)
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
