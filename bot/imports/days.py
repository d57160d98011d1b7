"""Imported messages into day files: grouped by local date, merged into what is already there.

Readers yield messages in export order, which is time order, so one day is held at a time and
written when the date moves on (a date seen again later is merged into its file again). Each day
is merged with the day file already in the folder: a message with a platform id replaces the one
with the same id (an edit made since the last export), a message without one is the same message
when time, speaker and text agree. A newer export that overlaps an older one therefore adds only
what is new, and an unchanged day is not rewritten (its ingest is then a no-op as well).
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.archive.links import anchor
from bot.archive.model import Day, Message, MessageKind
from bot.archive.reader import ArchiveError, ReadOptions, classify, mentions_in, read_day
from bot.archive.writer import day_file_name, write_day
from bot.imports.model import Entry, ExportError, Imported, NameMap, Skipped, clean_name, clean_text

IMPORT_AUTHOR = "archive-bot import"
EARLIEST = dt.date(1990, 1, 1)  # before any chat platform; later than tomorrow cannot be in an export


@dataclass(slots=True)
class ImportReport:
    messages: int = 0  # messages of the chosen chat in the export
    imported: int = 0  # new in the archive
    updated: int = 0  # known id, changed content (edited since the last import)
    duplicates: int = 0  # already in the archive, unchanged
    skipped: Counter = field(default_factory=Counter)  # reason -> entries that are not messages
    files: list[Path] = field(default_factory=list)  # day files written (new or changed)
    days: int = 0  # days the export touched
    first: dt.date | None = None
    last: dt.date | None = None
    seconds: float = 0.0


def valid_group(name: str) -> str:
    """The group is a folder name: refuse anything that could leave the archive folder."""
    if not name or name in (".", "..") or any(c in name for c in "/\\\x00") or name != name.strip():
        raise ExportError(f"--group {name!r} must be a plain folder name")
    return name


def _text_key(message: Message, seen: Counter) -> tuple:
    """Identity without ids: time, speaker and text (and which repeat of them within the day)."""
    base = (message.time, message.speaker, " ".join(message.text.split()))
    seen[base] += 1
    return (*base, seen[base])


class DayFiles:
    """Receives a reader's entries and keeps `folder/<group>/<date>-chat.markdown` up to date."""

    def __init__(self, folder: str | Path, group: str, zone: str, platform: str,
                 names: NameMap | None = None, options: ReadOptions | None = None):
        self.folder = Path(folder)
        self.group = valid_group(group)
        self.zone = ZoneInfo(zone)
        self.platform = platform
        self.names = names or NameMap()
        self.options = options or ReadOptions(timezone=zone)
        self.report = ImportReport()
        self._date: dt.date | None = None
        self._pending: list[Message] = []
        self._dates: set[dt.date] = set()
        self._started = time.perf_counter()
        self._latest = dt.datetime.now(self.zone).date() + dt.timedelta(days=1)

    def add_all(self, entries: Iterable[Entry]) -> ImportReport:
        for entry in entries:
            self.add(entry)
        return self.finish()

    def add(self, entry: Entry) -> None:
        if isinstance(entry, Skipped):
            self.report.skipped[entry.reason] += 1
            return
        try:
            message = self._message(entry)
        except (OverflowError, ValueError):  # year 9999 shifted into the zone, and the like
            message = None
        if message is None or not EARLIEST <= message.time.date() <= self._latest:
            self.report.skipped["time out of range"] += 1
            return
        date = message.time.date()
        if date != self._date:
            self._flush()
            self._date = date
        self._pending.append(message)
        self.report.messages += 1

    def finish(self) -> ImportReport:
        self._flush()
        self.report.seconds = time.perf_counter() - self._started
        return self.report

    def _message(self, entry: Imported) -> Message:
        text = self.names.text(clean_text(entry.text), entry.mentions)
        if entry.forwarded_from is not None:
            text = f"[forwarded from {self.names.name(clean_name(entry.forwarded_from))}] {text}".rstrip()
        kind, image_url = classify(text)
        local = entry.time.astimezone(self.zone).replace(microsecond=0)
        return Message(time=local, speaker=self.names.name(clean_name(entry.speaker)), text=text, kind=kind,
                       mentions=mentions_in(text) if kind is MessageKind.TEXT and "@" in text else (),
                       image_url=image_url, id=anchor(entry.id) if entry.id is not None else None,
                       reply_to=anchor(entry.reply_to) if entry.reply_to is not None else None)

    def _flush(self) -> None:
        if self._date is None or not self._pending:
            return
        date, fresh, self._pending = self._date, self._pending, []
        report = self.report
        self._dates.add(date)
        report.days = len(self._dates)
        report.first = min(report.first or date, date)
        report.last = max(report.last or date, date)
        path = self.folder / self.group / day_file_name(Day(self.group, date, "", ""))
        day = self._existing(path, date)
        merged, changed = self._merge(day.messages, fresh)
        if changed or not path.exists():
            day.messages = sorted(merged, key=lambda m: m.time)  # stable: same second keeps its order
            write_day(day, self.folder)
            if path not in report.files:
                report.files.append(path)

    def _existing(self, path: Path, date: dt.date) -> Day:
        if not path.exists():
            return Day(self.group, date, f"{date.isoformat()}-{self.platform}", IMPORT_AUTHOR)
        try:
            return read_day(path, self.group, self.options)
        except ArchiveError as exc:
            raise ExportError(f"cannot merge into the existing day file: {exc}") from None

    def _merge(self, existing: list[Message], fresh: list[Message]) -> tuple[list[Message], bool]:
        """Existing messages plus the new ones. A message is known by its id, else by time, speaker
        and text (so an export without ids still matches what an export with ids wrote)."""
        merged = list(existing)
        by_id = {m.id: i for i, m in enumerate(merged) if m.id is not None}
        seen: Counter = Counter()
        by_text = {_text_key(m, seen): i for i, m in enumerate(merged)}
        seen = Counter()
        changed = False
        for message in fresh:
            text_key = _text_key(message, seen)
            at = by_id.get(message.id) if message.id is not None else None
            if at is not None:
                if message.same_content(merged[at]):
                    self.report.duplicates += 1
                else:
                    merged[at] = message  # edited since the last import
                    self.report.updated += 1
                    changed = True
                continue
            at = by_text.get(text_key)
            if at is None:
                by_text[text_key] = len(merged)
                merged.append(message)
                self.report.imported += 1
                changed = True
                continue
            self.report.duplicates += 1
            if message.id is not None and merged[at].id is None:  # the same message, now with its links
                merged[at] = message
                changed = True
            if message.id is not None:
                by_id[message.id] = at
        return merged, changed
