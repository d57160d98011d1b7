"""Read helpers over the archive tables: statistics, days rebuilt as `Day`s, members.

Days come back exactly as the reader produced them (same speakers, texts, kinds, mentions, image
URLs, header lines, times aware in the given zone), so export, the web view and the answer index
can work from the store instead of the files.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, Text, bindparam, distinct, func, select, tuple_, type_coerce

from bot.archive.model import DEFAULT_ZONE, Day, Message, MessageKind
from bot.store.schema import days, message_links, messages
from bot.store.schema import groups as groups_table
from bot.store.schema import members as members_table

_KINDS = {kind.value: kind for kind in MessageKind}
# One day's messages; mentions read as raw JSON text (decoded only when present: most are empty).
_DAY_MESSAGES = (
    select(messages.c.ts, messages.c.speaker, messages.c.text, messages.c.kind, type_coerce(messages.c.mentions, Text),
           messages.c.image_url, messages.c.line, message_links.c.message_id, message_links.c.reply_to)
    .select_from(messages.outerjoin(message_links, (message_links.c.day_id == messages.c.day_id)
                                    & (message_links.c.seq == messages.c.seq)))
    .where(messages.c.day_id == bindparam("day_id")).order_by(messages.c.seq)
)


@dataclass(frozen=True, slots=True)
class GroupStats:
    group: str
    days: int
    messages: int
    speakers: int
    first_date: str | None  # ISO dates
    last_date: str | None


@dataclass(frozen=True, slots=True)
class Stats:
    groups: list[GroupStats]
    total: GroupStats  # group "*"; speakers = distinct names over all groups

    @property
    def messages(self) -> int:
        return self.total.messages

    def to_json(self) -> dict:
        """One object with a top-level `messages` total, then the total and each group."""
        total = asdict(self.total)
        total.pop("group")
        return {**total, "groups": [asdict(g) for g in self.groups]}


@dataclass(frozen=True, slots=True)
class DayInfo:
    group: str
    date: dt.date
    title: str
    author: str
    declared_lines: int | None
    message_count: int
    source: str | None


@dataclass(frozen=True, slots=True)
class MemberSeen:
    display_name: str
    platform: str
    user_key: str
    first_seen: int  # UTC epoch seconds
    last_seen: int


def _zone(zone: str | ZoneInfo) -> ZoneInfo:
    return zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)


def groups(engine: Engine) -> list[str]:
    """Every group's name, sorted."""
    with engine.connect() as conn:
        return list(conn.execute(select(groups_table.c.name).order_by(groups_table.c.name)).scalars())


def stats(engine: Engine) -> Stats:
    """Days, messages, speakers and date range per group and in total (archive days only)."""
    speakers = (select(members_table.c.group_id, func.count().label("n")).where(members_table.c.platform == "archive")
                .group_by(members_table.c.group_id).subquery())
    query = (
        select(groups_table.c.name, func.count(days.c.id), func.coalesce(func.sum(days.c.message_count), 0),
               func.coalesce(func.max(speakers.c.n), 0), func.min(days.c.date), func.max(days.c.date))
        .select_from(groups_table.outerjoin(days, days.c.group_id == groups_table.c.id)
                     .outerjoin(speakers, speakers.c.group_id == groups_table.c.id))
        .group_by(groups_table.c.id, groups_table.c.name).order_by(groups_table.c.name)
    )
    with engine.connect() as conn:
        per_group = [GroupStats(name, n_days, int(n_messages), int(n_speakers), first, last)
                     for name, n_days, n_messages, n_speakers, first, last in conn.execute(query)]
        distinct_speakers = conn.execute(select(func.count(distinct(members_table.c.user_key)))
                                         .where(members_table.c.platform == "archive")).scalar() or 0
    dated = [g for g in per_group if g.first_date]
    total = GroupStats(
        "*", sum(g.days for g in per_group), sum(g.messages for g in per_group), distinct_speakers,
        min((g.first_date for g in dated), default=None), max((g.last_date for g in dated), default=None))
    return Stats(per_group, total)


def list_days(engine: Engine, group: str) -> list[DayInfo]:
    """The group's days in date order (empty for an unknown group)."""
    query = (select(days.c.date, days.c.title, days.c.author, days.c.declared_lines, days.c.message_count, days.c.source)
             .join(groups_table, groups_table.c.id == days.c.group_id).where(groups_table.c.name == group).order_by(days.c.date))
    with engine.connect() as conn:
        return [DayInfo(group, dt.date.fromisoformat(date), title, author, declared, count, source)
                for date, title, author, declared, count, source in conn.execute(query)]


def changed_since(engine: Engine, ts: int) -> list[tuple[str, str]]:
    """(group, ISO date) of the days added or replaced at or after `ts` (UTC epoch seconds).

    For a process that did not run the ingest itself (the server after `archive-bot ingest`).
    """
    query = (select(groups_table.c.name, days.c.date).join(groups_table, groups_table.c.id == days.c.group_id)
             .where(days.c.ingested_ts >= ts).order_by(groups_table.c.name, days.c.date))
    with engine.connect() as conn:
        return [(name, date) for name, date in conn.execute(query)]


def load_day(engine: Engine, group: str, date: dt.date | str, zone: str | ZoneInfo = DEFAULT_ZONE) -> Day | None:
    """One stored day as a `Day`, or None when the store does not have it."""
    iso = date if isinstance(date, str) else date.isoformat()
    found = list(_days(engine, (groups_table.c.name == group) & (days.c.date == iso), _zone(zone)))
    return found[0] if found else None


def iter_days(engine: Engine, group: str | None = None, zone: str | ZoneInfo = DEFAULT_ZONE,
              keys: Iterable[tuple[str, str]] | None = None) -> Iterator[Day]:
    """Stored days (of one group, or of the given (group, ISO date) keys) in group and date order.

    Streams: one day's messages are in memory at a time, so the whole store can be indexed.
    """
    where = None
    if group is not None:
        where = groups_table.c.name == group
    if keys is not None:
        wanted = tuple_(groups_table.c.name, days.c.date).in_([tuple(k) for k in keys])
        where = wanted if where is None else where & wanted
    yield from _days(engine, where, _zone(zone))


def _days(engine: Engine, where, zone: ZoneInfo) -> Iterator[Day]:
    day_query = (select(days.c.id, groups_table.c.name, days.c.date, days.c.title, days.c.author, days.c.declared_lines,
                        days.c.source).join(groups_table, groups_table.c.id == days.c.group_id).order_by(groups_table.c.name, days.c.date))
    if where is not None:
        day_query = day_query.where(where)
    with engine.connect() as conn:
        heads = list(conn.execute(day_query))
        for day_id, group, date, title, author, declared, source in heads:
            day = Day(group, dt.date.fromisoformat(date), title, author, declared, source=source)
            rows = conn.execute(_DAY_MESSAGES, {"day_id": day_id}).all()
            day.messages = [
                Message(time=dt.datetime.fromtimestamp(ts, zone), speaker=speaker, text=text, kind=_KINDS[kind],
                        mentions=_mentions(mentions) if mentions else (), image_url=image_url,
                        source=source, line=line, id=message_id, reply_to=reply_to)
                for ts, speaker, text, kind, mentions, image_url, line, message_id, reply_to in rows
            ]
            yield day


def _mentions(raw: str | list) -> tuple[str, ...]:
    """SQLite hands back the JSON text; psycopg has already decoded it."""
    return tuple(json.loads(raw) if isinstance(raw, str) else raw)


def members(engine: Engine, group: str, platform: str | None = None) -> list[MemberSeen]:
    """The group's members (archive names and platform users) by first appearance."""
    query = (select(members_table.c.display_name, members_table.c.platform, members_table.c.user_key, members_table.c.first_seen_ts,
                    members_table.c.last_seen_ts).join(groups_table, groups_table.c.id == members_table.c.group_id)
             .where(groups_table.c.name == group).order_by(members_table.c.first_seen_ts, members_table.c.display_name))
    if platform is not None:
        query = query.where(members_table.c.platform == platform)
    with engine.connect() as conn:
        return [MemberSeen(*row) for row in conn.execute(query)]


def top_speakers(engine: Engine, group: str, limit: int = 15) -> list[tuple[str, int]]:
    """(speaker, messages) of the group's most active members over its whole archive."""
    count = func.count().label("n")
    query = (select(messages.c.speaker, count).join(days, days.c.id == messages.c.day_id)
             .join(groups_table, groups_table.c.id == days.c.group_id).where(groups_table.c.name == group)
             .group_by(messages.c.speaker).order_by(count.desc(), messages.c.speaker).limit(limit))
    with engine.connect() as conn:
        return [(speaker, int(n)) for speaker, n in conn.execute(query)]
