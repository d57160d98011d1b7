"""Writes a `Day` back out in the archive's own Jekyll format (the inverse of the reader).

Used by `archive-bot export` and by the nightly publication that rule 2.7 promises. Live text is
written so that reading it back gives the same message and nothing else: no text can start a
message header, close the front matter or become an image line (see `text_block`).
"""

from __future__ import annotations

import html
import json
import os
import re
import tempfile
from pathlib import Path

from bot.archive.links import links_line
from bot.archive.model import Day, MessageKind
from bot.archive.reader import IMAGE, OWNER_SPEAKER, unescape

SEPARATOR = "   "
_SURROGATE = re.compile("[\ud800-\udfff]")
# What YAML reads as a line break or refuses as unprintable: written as \uXXXX inside the quotes.
_YAML_UNSAFE = re.compile("[^\x09\x0a\x0d\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def storable(text: str) -> str:
    """Text a UTF-8 file can hold: lone surrogates become U+FFFD (nothing else changes)."""
    if not _SURROGATE.search(text):
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def escape(text: str) -> str:
    """Escape twice, as the export did, so the reader's double unescape restores the text."""
    return html.escape(html.escape(text))


def _char_ref(char: str) -> str:
    """A character as a numeric reference, escaped twice like the rest of the text."""
    return f"&amp;#{ord(char)};"


def text_block(text: str) -> str:
    """A text message's body line(s), which the reader turns back into exactly `text`.

    Escaped twice (so no line can start with ">" and become a header); carriage returns and a
    trailing space or line break become character references (the reader would drop them with
    the Markdown break); a text that would read as an image line gets its "!" as a reference
    (the reader recognises image lines before unescaping).
    """
    body = escape(storable(text)).replace("\r", _char_ref("\r"))
    if body[-1:] in (" ", "\n"):
        body = body[:-1] + _char_ref(body[-1])
    if body.startswith("!") and IMAGE.match(body):
        body = _char_ref("!") + body[1:]
    return body + "  "


def image_line(message) -> str | None:
    """An image message's raw line, only when it reads back as that same image; else None."""
    text = message.text
    if "\n" in text or "\r" in text or text != text.strip():
        return None
    raw = escape(text)  # "![&gt](…)" written raw would read back as "![>](…)"
    if not IMAGE.match(raw) or unescape(raw) != text:
        return None
    return raw + " "


def speaker_field(speaker: str) -> str:
    """The speaker as the header holds it: one line, and never the owner's "我" by accident."""
    speaker = " ".join(storable(speaker).splitlines())
    return speaker + " " if speaker == OWNER_SPEAKER else speaker


def _yaml_string(value: str) -> str:
    quoted = json.dumps(storable(value), ensure_ascii=False)
    return _YAML_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", quoted)


def render_day(day: Day) -> str:
    out = [
        "---",
        "layout:     source",
        f"title:      {_yaml_string(day.title or f'{day.date.isoformat()}-WeChat')}",
        f"date:       {day.date.isoformat()} 12:00:00",
        f"author:     {_yaml_string(day.author)}",
        *([f"lines:      {day.declared_lines}"] if day.declared_lines is not None else []),  # absent stays absent
        "tag:        [chat]",
        "---",
    ]
    for message in day.messages:
        out.append(f"> {message.time:%H:%M:%S}  {speaker_field(message.speaker)}  ")
        links = links_line(message.id, message.reply_to)
        if links is not None:
            out.append(links)
        out.append(SEPARATOR)
        image = image_line(message) if message.kind is MessageKind.IMAGE else None
        out.append(image if image is not None else text_block(message.text))
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
