"""The generic formats: CSV (with a header row) or JSON Lines, one message a row.

For the many WeChat (and other) export tools that can write a table. Columns / keys:

    time      required  ISO 8601 ("2024-03-04 09:00:05", "2024-03-04T09:00:05+08:00") or Unix seconds;
                        without an offset it is a time in the configured zone
    speaker   required  display name
    text      required  the message (may be empty; line breaks kept)
    id        optional  the message's id in the source (makes re-imports match by id)
    reply_to  optional  the id of the message it replies to

Other columns are ignored. A row that lacks a time or speaker, or whose time cannot be read, is
skipped and counted with its reason. Documented in docs/importing.md.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.archive.model import DEFAULT_ZONE
from bot.imports.model import Entry, ExportError, Imported, Progress, Skipped

REQUIRED = ("time", "speaker", "text")


def read_csv(path: str | Path, selection: str | None = None, progress: Progress | None = None,
             zone: str = DEFAULT_ZONE) -> Iterator[Entry]:
    """Rows of a CSV file with a header row, as messages in file order."""
    return _read(Path(path), _csv_rows, progress, zone)


def read_jsonl(path: str | Path, selection: str | None = None, progress: Progress | None = None,
               zone: str = DEFAULT_ZONE) -> Iterator[Entry]:
    """Lines of a JSON Lines file (one object a line), as messages in file order."""
    return _read(Path(path), _jsonl_rows, progress, zone)


def _read(path: Path, rows_of, progress: Progress | None, zone: str) -> Iterator[Entry]:
    try:
        handle = path.open("r", encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise ExportError(f"{path}: cannot read: {exc.strerror or exc}") from None
    tz = ZoneInfo(zone)
    total = path.stat().st_size
    with handle:
        try:
            for number, row in enumerate(rows_of(handle, path), start=1):
                yield row if isinstance(row, Skipped) else _entry(row, tz)
                if progress and number % 5000 == 0:
                    progress(handle.buffer.tell(), total)
        except UnicodeDecodeError:
            raise ExportError(f"{path}: not UTF-8 text") from None
    if progress:
        progress(total, total)


def _csv_rows(handle: io.TextIOBase, path: Path) -> Iterator[dict | Skipped]:
    reader = csv.DictReader(handle)
    missing = [name for name in REQUIRED if name not in (reader.fieldnames or ())]
    if missing:
        raise ExportError(f"{path}: the header row lacks {', '.join(missing)} (needs time,speaker,text[,id,reply_to])")
    try:
        yield from reader
    except csv.Error as exc:
        raise ExportError(f"{path}: bad CSV at line {reader.line_num}: {exc}") from None


def _jsonl_rows(handle: io.TextIOBase, path: Path) -> Iterator[dict | Skipped]:
    for line in handle:
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError:
            yield Skipped("line that is not JSON")
            continue
        yield row if isinstance(row, dict) else Skipped("line that is not a JSON object")


def _entry(row: dict, zone: ZoneInfo) -> Entry:
    when = parse_time(row.get("time"), zone)
    if when is None:
        return Skipped("row without a readable time")
    speaker = row.get("speaker")
    if not isinstance(speaker, (str, int)) or not str(speaker).strip():
        return Skipped("row without a speaker")
    text = row.get("text")
    reply = _id(row.get("reply_to"))
    return Imported(time=when, speaker=str(speaker), text="" if text is None else str(text), id=_id(row.get("id")),
                    reply_to=reply)


def _id(value) -> str | None:
    if value is None or isinstance(value, (dict, list, bool)):
        return None
    text = str(value).strip()
    return text or None


def parse_time(value, zone: ZoneInfo) -> dt.datetime | None:
    """ISO 8601 (zone added when missing) or Unix seconds; None for anything else or out of range."""
    try:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return dt.datetime.fromtimestamp(value, dt.timezone.utc)
        if not isinstance(value, str) or not value.strip():
            return None
        text = value.strip()
        if text.replace(".", "", 1).isdigit():
            return dt.datetime.fromtimestamp(float(text), dt.timezone.utc)
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except (ValueError, OverflowError, OSError):
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=zone)
