"""Writes a `Day` back out in the archive's own Jekyll format (the inverse of the reader).

Used by `archive-bot export` and by the nightly publication that rule 2.7 promises.
"""

from __future__ import annotations

import html
import json
import os
import tempfile
from pathlib import Path

from bot.archive.links import links_line
from bot.archive.model import Day, MessageKind

SEPARATOR = "   "


def escape(text: str) -> str:
    """Escape twice, as the export did, so the reader's double unescape restores the text."""
    return html.escape(html.escape(text))


def render_day(day: Day) -> str:
    out = [
        "---",
        "layout:     source",
        f"title:      {json.dumps(day.title or f'{day.date.isoformat()}-WeChat', ensure_ascii=False)}",
        f"date:       {day.date.isoformat()} 12:00:00",
        f"author:     {json.dumps(day.author, ensure_ascii=False)}",
        *([f"lines:      {day.declared_lines}"] if day.declared_lines is not None else []),  # absent stays absent
        "tag:        [chat]",
        "---",
    ]
    for message in day.messages:
        speaker = " ".join(message.speaker.splitlines())  # a line break would end the header
        out.append(f"> {message.time:%H:%M:%S}  {speaker}  ")
        links = links_line(message.id, message.reply_to)
        if links is not None:
            out.append(links)
        out.append(SEPARATOR)
        if message.kind is MessageKind.IMAGE:
            out.append(message.text + " ")
        else:
            body = escape(message.text)
            if body == " " or body.endswith("\n "):  # "   " would read as a separator line
                body = body[:-1] + "&amp;#32;"  # a space, escaped twice like the rest
            out.append(body + "  ")
        out.append(SEPARATOR)
    return "\n".join(out) + "\n"


def day_file_name(day: Day) -> str:
    return f"{day.date.isoformat()}-chat.markdown"


def write_day(day: Day, folder: str | Path) -> Path:
    """Write `folder/<group>/<date>-chat.markdown` atomically (a reader never sees half a file)."""
    target = Path(folder) / day.group / day_file_name(day)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".markdown")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(render_day(day))
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
