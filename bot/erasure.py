"""Taking a person's words out of the archive: `/forgetme` for a member, `archive-bot erase` for an operator.

Their archived messages are removed from each day they spoke in (or, with `erasure.mode = "marker"`,
kept as a marker line without their name or words, so the conversation around stays readable);
each affected day is stored again (members, pairs and web pages follow from the store) and, when
the nightly publication wrote it, its day file is rewritten by the archive writer. Their live
messages, member rows and reminders go too, with the answers to questions they asked and any pin
of a unit that started at an erased line (the others' keys follow their lines, `_follow_lines`),
and the stored words and vectors of every text that quoted them. The audit row lists the days
rewritten, and every running process re-reads them (bot/erasure_watch.py). An audit row records who asked, when, the scope and how many
messages: never a name or a word of what was erased. The operator's own source day files are
left as they are: the erased day keeps their content hash, so re-reading an unchanged file does
not bring the words back (`archive-bot export` writes the erased day when the source must change).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from bot.archive.model import Day
from bot.archive.reader import ReadOptions
from bot.archive.writer import day_file_name, write_day
from bot.config import Config
from bot.qa.retrieval import body_text, question_text
from bot.qa.units import UNIT_KINDS, day_units, parse_unit_id
from bot.qa.mining import mine_day
from bot.store import answers as answer_log
from bot.store import curation, erase as sql, queries, unit_keys
from bot.store.ingest import ingest_day
from bot.store.vectors import text_hash

MARKER_SPEAKER = "（已删除）"


@dataclass
class Erased:
    """What an erasure did: counts for the audit and the reply, and where it happened."""

    archived: int = 0
    live: int = 0
    days: list[tuple[str, str]] = field(default_factory=list)  # (group, ISO date) rewritten
    files: list[Path] = field(default_factory=list)  # published day files rewritten


def _without(day: Day, names: set[str], marker: str | None) -> tuple[Day, list[str], dict[int, int | None]]:
    """The day without the speakers' messages (or with marker lines); also their texts, and where
    each line went (None for theirs)."""
    kept, gone, moved = [], [], {}
    for seq, message in enumerate(day.messages):
        if message.speaker not in names:
            moved[seq] = len(kept)
            kept.append(message)
            continue
        moved[seq] = None
        gone.append(message.text)
        if marker is not None:
            kept.append(dataclasses.replace(message, speaker=MARKER_SPEAKER, text=marker, mentions=(),
                                            image_url=None, kind=type(message.kind).TEXT))
    return dataclasses.replace(day, messages=kept), gone, moved


def _follow_lines(conn, group: str, date: str, moved: dict[int, int | None]) -> None:
    """Feedback, pins and hides name a unit by its first line: after an erasure they follow that
    line to its new place, and those of a unit whose first line was erased name nothing any more.
    Renamed from the first line on, so no new name meets one not yet renamed."""
    prefixes = [f"{kind}:{group}:{date}:" for kind in (*UNIT_KINDS, "msg", "pair")]
    refs = [(ref, key) for key in unit_keys.starting_with(conn, *prefixes)
            if (ref := parse_unit_id(key)) is not None and (ref.group, ref.date) == (group, date)]
    renamed: dict[str, str | None] = {}
    for ref, key in sorted(refs, key=lambda pair: pair[0].seq):
        seq = moved.get(ref.seq)
        if seq != ref.seq:
            renamed[key] = None if seq is None else ref.at(seq)
    unit_keys.rename(conn, renamed)


def _derived_texts(day: Day) -> list[str]:
    """Texts built from a day that the store keeps words or vectors of: messages, and every retrieval
    unit's question and body (bot.qa.units, bot.qa.retrieval)."""
    units = day_units(day, mine_day(day))
    return ([m.text for m in day.messages] + [question_text(u) for u in units] + [body_text(u) for u in units]
            + [u.question_text for u in units])


def erase(db: Engine, config: Config, speakers: set[str], *, group: str | None = None,
          live_member: tuple[str, str] | None = None, requested_by: str, now: dt.datetime) -> Erased:
    """Erase everything `speakers` (display names) said, in `group` or everywhere; `live_member`
    (platform, user id) adds that member's live messages under any name. Sync: run in a thread."""
    zone = config.bot.timezone
    marker = config.erasure.marker if config.erasure.mode == "marker" else None
    options = ReadOptions(timezone=zone, owner_name=config.bot.owner_name)
    publish_dir = Path(config.archive.publish_dir) if config.archive.publish_dir else None
    done = Erased()
    with db.connect() as conn:
        if live_member is not None and group is not None:
            speakers = speakers | sql.names_of(conn, *live_member, group)
        affected = sql.days_with(conn, speakers, group)
        keys = sql.member_keys(conn, speakers, group) | ({live_member} if live_member else set())
    stale_texts: list[str] = []
    for day_group, date, content_hash in affected:
        day = queries.load_day(db, day_group, date, zone)
        cleaned, gone, moved = _without(day, speakers, marker)
        stale_texts += _derived_texts(day)
        with db.begin() as conn:
            ingest_day(conn, cleaned, options=options)
            sql.keep_hash(conn, day_group, date, content_hash)
            _follow_lines(conn, day_group, date, moved)
        done.archived += len(gone)
        done.days.append((day_group, date))
        if publish_dir is not None and (publish_dir / day_group / day_file_name(cleaned)).exists():
            done.files.append(write_day(cleaned, publish_dir))
    with db.begin() as conn:
        done.live, live_texts, live_units = sql.erase_live(conn, keys, group, marker)
        stale_texts += live_texts
        curation.forget_units(conn, live_units)
        for platform, user_id in keys:
            answer_log.forget_asker(conn, [user_id], platform)
        sql.forget_texts(conn, [text_hash(t) for t in stale_texts])
        sql.audit(conn, requested_by=requested_by, scope=group or "*", mode=config.erasure.mode,
                  archived=done.archived, live=done.live, ts=int(now.timestamp()), days_rewritten=done.days)
    return done
