"""WhatsApp's "Export chat" text file (`_chat.txt` / `WhatsApp Chat with X.txt`), or the zip it comes in.

A message starts with its time and sender; lines that follow without a time belong to it. The two
common layouts, both with day-first or month-first dates and 24-hour or AM/PM times:

    31/12/2023, 21:15 - Alice: text          (Android)
    [31/12/2023, 21:15:42] Alice: text       (iPhone)

Lines without a sender ("Messages and calls are end-to-end encrypted", "Bob joined using this
group's invite link", "Alice added Carol") are system lines and skipped; so are the iPhone's
system lines, which carry the chat's name and start with U+200E. Whether 01/02 is the 1st of
February or January 2nd is decided from the file (a first number over 12 means day first, a
second over 12 month first; day first when nothing tells). The export has no message ids and no
replies; times are local, taken in the configured zone.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.archive.model import DEFAULT_ZONE
from bot.imports.model import Entry, ExportError, Imported, Progress, Skipped

_WHEN = (r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{2,4}),? (\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?"
         r"(?:[\s\u202f\u00a0]*([AaPp])\.?\s?[Mm]\.?)?")
ANDROID = re.compile(rf"^{_WHEN} - (.*)$")
IPHONE = re.compile(rf"^\u200e?\[{_WHEN}\] (.*)$")
MEDIA = {"<Media omitted>": "[media]", "image omitted": "[photo]", "video omitted": "[video]",
         "audio omitted": "[voice message]", "sticker omitted": "[sticker]", "GIF omitted": "[GIF]",
         "document omitted": "[file]", "Contact card omitted": "[contact]",
         "This message was deleted.": "[deleted message]", "This message was deleted": "[deleted message]",
         "You deleted this message.": "[deleted message]", "You deleted this message": "[deleted message]"}
ATTACHED = re.compile(r"^<attached: ([^>]+)>$")
EDITED = re.compile(r"\s*<This message was edited>$")


def read_export(path: str | Path, selection: str | None = None, progress: Progress | None = None,
                zone: str = DEFAULT_ZONE) -> Iterator[Entry]:
    """The chat's messages in file order."""
    lines = _lines(Path(path))
    day_first = _day_first(lines)
    tz = ZoneInfo(zone)
    current: list | None = None  # [time, speaker, [text lines]]
    for number, line in enumerate(lines, start=1):
        head = IPHONE.match(line) or ANDROID.match(line)
        if head is None:
            if current is not None:
                current[2].append(line)
            continue
        if current is not None:
            yield _message(*current)
        current = None
        when = _time(head, day_first, tz)
        rest = head.group(8)
        sender, sep, text = rest.partition(": ")
        if when is None:
            yield Skipped("line with an impossible date")
        elif not sep or (line.startswith(("[", "\u200e[")) and text.startswith("\u200e")
                         and text.lstrip("\u200e") not in MEDIA and not ATTACHED.match(text.lstrip("\u200e"))):
            yield Skipped("system line")
        else:
            current = [when, sender.strip("\u200e\u202a\u202c "), [text]]
        if progress and number % 5000 == 0:
            progress(number, len(lines))
    if current is not None:
        yield _message(*current)
    if progress:
        progress(len(lines), len(lines))


def _lines(path: Path) -> list[str]:
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                texts = [n for n in archive.namelist() if n.endswith(".txt")]
                if len(texts) != 1:
                    raise ExportError(f"{path}: expected one chat .txt in the zip, found {len(texts)}")
                raw = archive.read(texts[0])
        else:
            raw = path.read_bytes()
    except (OSError, zipfile.BadZipFile) as exc:
        raise ExportError(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ExportError(f"{path}: not UTF-8 text (WhatsApp exports are UTF-8)") from None
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if not any(IPHONE.match(line) or ANDROID.match(line) for line in lines[:50]):
        raise ExportError(f"{path}: not a WhatsApp chat export (no 'date, time - name: text' lines)")
    return lines


def _day_first(lines: list[str]) -> bool:
    for line in lines:
        head = IPHONE.match(line) or ANDROID.match(line)
        if head:
            if int(head.group(1)) > 12:
                return True
            if int(head.group(2)) > 12:
                return False
    return True


def _time(head: re.Match, day_first: bool, zone: ZoneInfo) -> dt.datetime | None:
    first, second, year = int(head.group(1)), int(head.group(2)), int(head.group(3))
    day, month = (first, second) if day_first else (second, first)
    hour, minute, second_ = int(head.group(4)), int(head.group(5)), int(head.group(6) or 0)
    half = (head.group(7) or "").lower()
    if half:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half == "p" else 0)
    try:
        return dt.datetime(year + 2000 if year < 100 else year, month, day, hour, minute, second_, tzinfo=zone)
    except ValueError:
        return None


def _message(when: dt.datetime, speaker: str, lines: list[str]) -> Imported:
    text = EDITED.sub("", "\n".join(lines)).strip()
    bare = text.lstrip("\u200e")
    if bare in MEDIA:
        text = MEDIA[bare]
    elif ATTACHED.match(bare):
        text = f"[file: {ATTACHED.match(bare).group(1)}]"
    return Imported(time=when, speaker=speaker, text=text)
