"""Days as the jobs read them: a group's live messages of one date, and earlier archived days.

The digest and the nightly publication work on `Day`s, the same shape the archive reader
produces, so they need no SQL of their own. Archived days come from `queries.load_day`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func, select

from bot.archive.links import anchor
from bot.archive.model import Day, Message, MessageKind
from bot.archive.reader import classify, mentions_in
from bot.store.queries import load_day
from bot.store.schema import days, groups, live_messages

PUBLISHED_AUTHOR = "archive-bot"


def live_anchor(platform: str, chat_id: str, message_id: str, several_chats: bool) -> str:
    """The archive id of a live message: the platform's own id (as an import of the same chat
    writes it) when one chat feeds the group, else prefixed with a tag of its chat."""
    if not several_chats:
        return anchor(message_id)
    tag = hashlib.sha256(f"{platform}:{chat_id}".encode()).hexdigest()[:6]
    return anchor(f"{tag}-{message_id}")


def live_day(engine: Engine, group: str, date: dt.date, zone: ZoneInfo, until_ts: int | None = None,
             several_chats: bool = False) -> Day:
    """The group's live messages of one local date as a Day, ordered by time (chats merged).

    Each message keeps its id and reply link (Telegram replies, Slack threads) as archive ids.
    """
    query = (select(live_messages.c.ts, live_messages.c.sender_name, live_messages.c.text,
                    live_messages.c.platform, live_messages.c.chat_id, live_messages.c.message_id,
                    live_messages.c.reply_to)
             .join(groups, groups.c.id == live_messages.c.group_id)
             .where(groups.c.name == group, live_messages.c.date == date.isoformat())
             .order_by(live_messages.c.ts, live_messages.c.id))
    if until_ts is not None:
        query = query.where(live_messages.c.ts <= until_ts)
    day = Day(group=group, date=date, title=f"{date.isoformat()}-WeChat", author=PUBLISHED_AUTHOR)
    with engine.connect() as conn:
        for ts, speaker, text, platform, chat_id, message_id, reply_to in conn.execute(query):
            text = (text or "").strip()
            if not text:
                continue  # join events and empty edits carry no text
            kind, image_url = classify(text)
            if kind is MessageKind.IMAGE and not _web_image(image_url):  # javascript: and the like stay text
                kind, image_url = MessageKind.TEXT, None
            day.messages.append(Message(
                time=dt.datetime.fromtimestamp(ts, zone), speaker=" ".join(speaker.split()) or "?",
                text=text, kind=kind, mentions=mentions_in(text) if kind is MessageKind.TEXT else (),
                image_url=image_url, id=live_anchor(platform, chat_id, message_id, several_chats),
                reply_to=live_anchor(platform, chat_id, reply_to, several_chats) if reply_to else None))
    return day


def _web_image(url: str | None) -> bool:
    return bool(url) and url.split(":", 1)[0].lower() in ("http", "https")


def live_count(engine: Engine, group: str, date: str) -> int:
    """How many live messages (with text) the group's chats received on a local ISO date."""
    query = (select(func.count()).select_from(live_messages.join(groups, groups.c.id == live_messages.c.group_id))
             .where(groups.c.name == group, live_messages.c.date == date, live_messages.c.text != ""))
    with engine.connect() as conn:
        return int(conn.execute(query).scalar() or 0)


def earlier_same_date(engine: Engine, group: str, date: dt.date, zone: ZoneInfo) -> Day | None:
    """The most recent earlier year's stored day with the same month-day and any messages."""
    with engine.connect() as conn:
        dates = [d for (d,) in conn.execute(
            select(days.c.date).join(groups, groups.c.id == days.c.group_id)
            .where(groups.c.name == group, days.c.date.like(f"%-{date:%m-%d}"), days.c.date < date.isoformat())
            .order_by(days.c.date.desc()))]
    for text in dates:
        day = load_day(engine, group, text, zone)
        if day is not None and day.messages:
            return day
    return None
