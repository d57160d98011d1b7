"""Reads the group's daily Jekyll chat logs into `Day`s.

Front matter goes through python-frontmatter; the body is a run of blocks:

    > 06:45:13  Speaker  
       
    message text  
       

The export escapes HTML twice, writes a message's own line breaks raw, ends text with a
Markdown break (two spaces) and image lines with one space. A header may be followed by a reply
links line (`{: #m12 data-reply-to="m7"}`, see bot.archive.links). Every malformed spot raises an
`ArchiveError` that names the file and line; `read_folder` collects them and keeps going.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple
from zoneinfo import ZoneInfo

import frontmatter
import yaml

from bot.archive.links import parse_links
from bot.archive.model import DEFAULT_ZONE, Day, Message, MessageKind

DAY_FILE = re.compile(r"^(\d{4}-\d{2}-\d{2})-chat\.(?:markdown|md)$")
HEADER = re.compile(r"^> (\d\d):(\d\d):(\d\d)  (.*)$")  # the speaker is followed by two spaces
LOOKS_LIKE_HEADER = re.compile(r"^> ?\d{1,2}:\d")
IMAGE = re.compile(r"^!\[[^\]]*\]\((\S+)\)$")
SEPARATOR = "   "
# The export's conventions, in one place (bot/text.py uses them too):
# @name ends at the export's "?" (U+2005 mangled), U+2005 itself, whitespace or another @; the name
# is group 1, the separator is consumed. A leading "??" (an emoji the export mangled) belongs to the
# name. Not after ASCII letters (e-mail).
MENTION = re.compile(r"(?<![A-Za-z0-9._%+-])@((?:\?\?)?[^\s?\u2005@]+)[?\u2005]?")
# The export writes emoji as `[微笑]`-style codes and mangles others into "??".
EMOJI_CODE = re.compile(r"\[[\u4e00-\u9fffA-Za-z]{1,8}\]|\?\?")
OWNER_SPEAKER = "我"


class ArchiveError(Exception):
    """A day file that cannot be read; names the file and line."""

    def __init__(self, path: str | Path, line: int | None, reason: str):
        self.path, self.line, self.reason = str(path), line, reason
        where = f"{self.path}:{line}" if line else self.path
        super().__init__(f"{where}: {reason}")

    def __reduce__(self):  # survives the trip back from a parsing worker process
        return ArchiveError, (self.path, self.line, self.reason)


@dataclass(frozen=True, slots=True)
class ReadOptions:
    timezone: str = DEFAULT_ZONE
    owner_name: str = "凤凰牌老熊-群主-北京"  # the exporting account, written as "我"

    @classmethod
    def of(cls, config) -> ReadOptions:
        """The options a `bot.config.Config` implies (its zone and owner)."""
        return cls(timezone=config.bot.timezone, owner_name=config.bot.owner_name)


def unescape(raw: str) -> str:
    """The export escaped HTML twice (`&amp;gt;`); undo both."""
    return html.unescape(html.unescape(raw)) if "&" in raw else raw


def mentions_in(text: str) -> tuple[str, ...]:
    return tuple(MENTION.findall(text))


def classify(text: str, raw: str | None = None) -> tuple[MessageKind, str | None]:
    """The kind of a message and, for images, the image URL.

    With `raw` (the text as the file holds it, still escaped) an image line is recognised before
    unescaping: the writer escapes a text's "!" so that text never reads back as an image.
    """
    image = IMAGE.match(text if raw is None else raw)
    if image:
        return MessageKind.IMAGE, image.group(1) if raw is None else unescape(image.group(1))
    if text.strip() and not EMOJI_CODE.sub("", text).strip():
        return MessageKind.EMOJI, None
    return MessageKind.TEXT, None


def _front_matter(path: Path, raw: str) -> tuple[dict, str, int]:
    """Metadata, body and the 1-based file line where the body starts."""
    lines = raw.split("\n")
    if not lines or lines[0].strip() != "---":
        raise ArchiveError(path, 1, "no front matter: the file must start with '---'")
    end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
    if end is None:
        raise ArchiveError(path, 1, "front matter is not closed by a '---' line")
    # YAML forbids tabs as indentation but the export puts them after keys; spaces read the same.
    head = "\n".join(line.replace("\t", " ") for line in lines[: end + 1])
    try:
        post = frontmatter.loads(head + "\n")
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ArchiveError(path, (mark.line + 1) if mark else 1, f"bad front matter: {exc}") from exc
    except (ValueError, TypeError) as exc:  # YAML accepted the shape of a value it cannot build (2018-13-45)
        raise ArchiveError(path, _bad_value_line(head), f"bad front matter value: {exc}") from exc
    return dict(post.metadata), "\n".join(lines[end + 1 :]), end + 2


def _bad_value_line(head: str) -> int:
    """The 1-based line of the first front matter entry YAML cannot build on its own."""
    for number, line in enumerate(head.split("\n"), start=1):
        try:
            yaml.safe_load(line) if ":" in line else None
        except (yaml.YAMLError, ValueError, TypeError):
            return number
    return 1


def _day_date(path: Path, meta: dict, line_of: dict[str, int]) -> dt.date:
    value = meta.get("date")
    if isinstance(value, dt.datetime):
        day = value.date()
    elif isinstance(value, dt.date):
        day = value
    elif isinstance(value, str):
        try:
            day = dt.date.fromisoformat(value.strip()[:10])
        except ValueError:
            raise ArchiveError(path, line_of.get("date"), f"front matter date {value!r} is not a date") from None
    else:
        raise ArchiveError(path, line_of.get("date", 1), "front matter has no date")
    named = DAY_FILE.match(path.name)
    if named and named.group(1) != day.isoformat():
        raise ArchiveError(path, line_of.get("date"), f"front matter date {day} disagrees with the file name")
    return day


def _key_lines(raw: str) -> dict[str, int]:
    found: dict[str, int] = {}
    for number, line in enumerate(raw.split("\n")[:40], start=1):
        key = line.split(":", 1)[0].strip()
        if key and key not in found:
            found[key] = number
    return found


def _blocks(path: Path, body: str, first_line: int) -> Iterator[tuple[int, re.Match, list[str]]]:
    """(header line number, header match, text lines) for each message block."""
    header: tuple[int, re.Match] | None = None
    text: list[str] = []
    for offset, line in enumerate(body.split("\n")):
        number = first_line + offset
        match = HEADER.match(line) if line[:1] == ">" else None  # cheap test first: most lines are text
        if match:
            if header:
                yield header[0], header[1], text
            header, text = (number, match), []
        elif line[:1] == ">":  # the export escapes ">" in text, so this can only be a broken header
            if LOOKS_LIKE_HEADER.match(line):
                raise ArchiveError(path, number, f"malformed message header {line.strip()!r}")
            raise ArchiveError(path, number, f"message header without a time {line.strip()!r} "
                                             "(expected '> HH:MM:SS  Speaker')")
        elif header is None:
            if line.strip():
                raise ArchiveError(path, number, "text before the first '> HH:MM:SS  Speaker' header")
        else:
            text.append(line)
    if header:
        yield header[0], header[1], text


def _raw_text(lines: list[str]) -> str:
    """Drop the blank separator lines around the text and the trailing Markdown break (still escaped)."""
    start, end = 0, len(lines)
    if start < end and lines[start] == SEPARATOR:
        start += 1
    while end > start and lines[end - 1] in (SEPARATOR, ""):
        end -= 1
    return _strip_break("\n".join(lines[start:end]))


def _strip_break(raw: str) -> str:
    """Remove the Markdown line break: two spaces, or one after an image."""
    if raw.endswith("  "):
        return raw[:-2]
    return raw[:-1] if raw.endswith(" ") else raw


class Record(NamedTuple):
    """One message block as parsed, before it becomes a `Message` (or, in bulk ingest, a row)."""

    line: int
    hour: int
    minute: int
    second: int
    speaker: str
    text: str
    kind: MessageKind
    image_url: str | None
    mentions: tuple[str, ...]
    id: str | None = None  # reply links (bot.archive.links)
    reply_to: str | None = None


def parse_records(path: str | Path, raw: str, group: str | None = None,
                  options: ReadOptions = ReadOptions()) -> tuple[Day, list[Record]]:
    """The parser proper: the day's metadata (no messages yet) and a record per message block.

    `parse_day` turns the records into Messages; bulk ingest turns them straight into rows.
    """
    path = Path(path)
    meta, body, body_line = _front_matter(path, raw)
    line_of = _key_lines(raw)
    day_date = _day_date(path, meta, line_of)
    declared = meta.get("lines")
    if declared is not None and not isinstance(declared, int):
        try:
            declared = int(str(declared).strip())
        except ValueError:
            raise ArchiveError(path, line_of.get("lines"), f"front matter lines {declared!r} is not a number") from None
    day = Day(
        group=group or path.parent.name,
        date=day_date,
        title=str(meta.get("title") or f"{day_date.isoformat()}-WeChat"),
        author=str(meta.get("author") if meta.get("author") is not None else ""),
        declared_lines=declared,
        source=str(path),
    )
    records = []
    for number, header, text_lines in _blocks(path, body, body_line):
        hour, minute, second = int(header[1]), int(header[2]), int(header[3])
        if hour > 23 or minute > 59 or second > 59:
            raise ArchiveError(path, number, f"impossible time {hour:02}:{minute:02}:{second:02}")
        speaker = _strip_break(header[4])
        if speaker == OWNER_SPEAKER:
            speaker = options.owner_name
        links = parse_links(text_lines[0]) if text_lines and text_lines[0][:1] == "{" else None
        if links is not None:
            del text_lines[0]
        raw_text = _raw_text(text_lines)
        text = unescape(raw_text)
        kind, image_url = classify(text, raw_text)
        mentions = mentions_in(text) if kind is MessageKind.TEXT and "@" in text else ()
        records.append(Record(number, hour, minute, second, speaker, text, kind, image_url, mentions,
                              *(links or (None, None))))
    return day, records


def parse_day(path: str | Path, raw: str, group: str | None = None, options: ReadOptions = ReadOptions()) -> Day:
    """Parse one day file's text. `group` defaults to the name of the file's folder."""
    day, records = parse_records(path, raw, group, options)
    zone, source = ZoneInfo(options.timezone), day.source
    day.messages = [
        Message(time=dt.datetime.combine(day.date, dt.time(r.hour, r.minute, r.second), tzinfo=zone),
                speaker=r.speaker, text=r.text, kind=r.kind, mentions=r.mentions, image_url=r.image_url,
                source=source, line=r.line, id=r.id, reply_to=r.reply_to)
        for r in records
    ]
    return day


def read_day(path: str | Path, group: str | None = None, options: ReadOptions = ReadOptions()) -> Day:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ArchiveError(path, None, f"cannot read: {exc.strerror or exc}") from exc
    return parse_bytes(path, raw, group, options)


def parse_bytes(path: str | Path, raw: bytes, group: str | None = None, options: ReadOptions = ReadOptions()) -> Day:
    """Parse a day file's bytes (UTF-8; Windows line ends accepted)."""
    return parse_day(path, decode(path, raw), group, options)


def decode(path: str | Path, raw: bytes) -> str:
    """A day file's text; an error naming the line when it is not UTF-8."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ArchiveError(path, raw[: exc.start].count(b"\n") + 1, "not UTF-8 text") from exc
    return text.replace("\r\n", "\n")


def find_day_files(paths: Iterable[str | Path]) -> list[tuple[str, Path]]:
    """(group, file) for each day file under the paths.

    A path may be a day file, a folder of day files (the group is the folder's name) or a folder
    of group folders.
    """
    found: list[tuple[str, Path]] = []
    for path in map(Path, paths):
        if path.is_file():
            found.append((path.resolve().parent.name, path))
            continue
        direct = sorted(p for p in path.iterdir() if p.is_file() and DAY_FILE.match(p.name)) if path.is_dir() else []
        if direct:
            found.extend((path.resolve().name, p) for p in direct)
        elif path.is_dir():
            for sub in sorted(p for p in path.iterdir() if p.is_dir()):
                found.extend((sub.name, p) for p in sorted(sub.iterdir()) if p.is_file() and DAY_FILE.match(p.name))
        else:
            raise ArchiveError(path, None, "no such file or folder")
    return found


def read_folder(paths: Iterable[str | Path], options: ReadOptions = ReadOptions()) -> tuple[list[Day], list[ArchiveError]]:
    """Every good day under the paths, plus an error for each bad file (which is skipped)."""
    days: list[Day] = []
    errors: list[ArchiveError] = []
    for group, path in find_day_files(paths):
        try:
            days.append(read_day(path, group, options))
        except ArchiveError as exc:
            errors.append(exc)
    return days, errors
