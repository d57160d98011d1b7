"""Telegram Desktop's JSON export (`result.json`), read as a stream.

Two shapes: "Export chat history" writes one chat (`{"name", "type", "id", "messages": [...]}`);
"Export Telegram data" writes the whole account (`{"chats": {"list": [chat, ...]}}`), from which
`--chat NAME` (or its numeric id) picks one; the other chats' entries are passed over unread.

Every entry of `"type": "message"` is one archived message whatever it carries: its `text`
(a string, or a list of strings and entity objects `{"type", "text", "href"?}`), plus a short
marker for what is not text ([photo], [file: x.pdf], [sticker 😀], [voice message], [poll: ...]);
a forwarded message says whose it was ([forwarded from X], renamed like speakers). Edited messages keep their final text. `"type": "service"` entries (joins,
pins, title changes) are not messages. Times come from `date_unixtime` (UTC seconds).

ijson parses the file incrementally (its C backend), so memory stays flat whatever the export's
size (bench/import.py measures it against json.load).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import ijson

from bot.imports.model import Entry, ExportError, Imported, Progress, Skipped

PROGRESS_EVERY = 2000  # entries between progress reports

# media_type -> marker (Telegram Desktop's export/output/export_output_json.cpp names)
MEDIA = {
    "sticker": "sticker", "voice_message": "voice message", "video_message": "video message",
    "audio_file": "audio", "video_file": "video", "animation": "GIF",
}


class _CountingFile:
    """A binary file that remembers how far it has been read (for the progress bar)."""

    def __init__(self, handle):
        self.handle, self.position = handle, 0

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.position += len(data)
        return data


def read_export(path: str | Path, chat: str | None = None, progress: Progress | None = None,
                zone: str | None = None) -> Iterator[Entry]:
    """The chosen chat's entries, in export order (`zone` is unused: the export has UTC times)."""
    path = Path(path)
    if path.is_dir():
        path = path / "result.json"
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise ExportError(f"{path}: cannot read: {exc.strerror or exc}") from None
    total = path.stat().st_size
    with handle:
        counting = _CountingFile(handle)
        try:
            yield from _entries(counting, chat, total, progress)
        except ijson.JSONError as exc:
            reason = " ".join(str(exc).split("\n")[0].split())
            raise ExportError(f"{path}: not valid JSON (read {counting.position:,} bytes): {reason}") from None


def _entries(stream: _CountingFile, chat: str | None, total: int, progress: Progress | None) -> Iterator[Entry]:
    if chat is None:  # the common case: ijson's C backend builds each message, no Python per event
        messages = ijson.items(stream, "messages.item", use_float=True)
    else:
        messages = ijson.items(_chosen_chat(ijson.parse(stream, use_float=True), chat), "messages.item")
    count = 0
    for count, entry in enumerate(messages, start=1):
        yield _entry(entry) if isinstance(entry, dict) else Skipped("entry that is not an object")
        if progress and count % PROGRESS_EVERY == 0:
            progress(stream.position, total)
    if chat is None and count == 0:
        raise ExportError("no messages: not a one-chat Telegram export (for a whole-account export, "
                          "choose a chat with --chat NAME)")
    if progress:
        progress(total, total)


def _chosen_chat(events, wanted: str) -> Iterator[tuple]:
    """Events of the chosen chat's messages, re-rooted at `messages`; every other chat is skipped.

    Telegram Desktop writes a chat's name and id before its messages; both are matched.
    """
    chat_prefix = "chats.list.item"
    inner = chat_prefix + ".messages"
    names: list[str] = []
    chosen = found = False
    for prefix, event, value in events:
        if prefix == chat_prefix and event == "start_map":
            chosen = False
        elif prefix in (chat_prefix + ".name", chat_prefix + ".id") and event in ("string", "number"):
            if prefix.endswith(".name"):
                names.append(str(value))
            chosen = chosen or str(value) == wanted
            found = found or chosen
        elif chosen and (prefix == inner or prefix.startswith(inner + ".")):
            yield prefix[len(chat_prefix) + 1:], event, value
        elif prefix == "" and event == "end_map":
            break
    if not found:
        listed = ", ".join(repr(n) for n in names[:10]) or "none"
        raise ExportError(f"no chat named {wanted!r} in this export (chats: {listed})")


def _entry(raw: dict) -> Entry:
    kind = raw.get("type")
    if kind == "service":
        return Skipped(f"service: {raw.get('action') or 'unknown'}")
    if kind != "message":
        return Skipped(f"entry of type {kind!r}")
    when = _time(raw)
    if when is None:
        return Skipped("message without a date")
    text, mentioned = _text(raw.get("text"))
    reply = raw.get("reply_to_message_id")
    if raw.get("reply_to_peer_id") is not None:
        reply = None  # a reply to a message of another chat: not in this archive
    speaker = raw.get("from") or raw.get("author") or raw.get("from_id") or "(unknown)"
    body = " ".join(filter(None, [*_markers(raw), text]))
    forwarded = raw.get("forwarded_from")
    return Imported(time=when, speaker=str(speaker), text=body, id=str(raw["id"]) if raw.get("id") is not None else None,
                    reply_to=str(reply) if reply is not None else None, mentions=tuple(mentioned),
                    forwarded_from=str(forwarded) if forwarded else None)


def _time(raw: dict) -> dt.datetime | None:
    try:
        if raw.get("date_unixtime") is not None:
            return dt.datetime.fromtimestamp(int(raw["date_unixtime"]), dt.timezone.utc)
        return dt.datetime.fromisoformat(str(raw["date"])).replace(tzinfo=dt.timezone.utc)
    except (KeyError, ValueError, OverflowError, OSError):
        return None


def _text(value) -> tuple[str, list[str]]:
    """Plain text of `text`, and the names and usernames its mention entities mention."""
    if isinstance(value, str):
        return value, []
    if not isinstance(value, list):
        return "", []
    parts, mentioned = [], []
    for part in value:
        if isinstance(part, str):
            parts.append(part)
            continue
        if not isinstance(part, dict):
            continue
        piece = str(part.get("text") or "")
        kind = part.get("type")
        if kind in ("mention_name", "mention") and piece:  # a name, or an @username
            mentioned.append(piece.lstrip("@"))
            piece = "@" + piece.lstrip("@")
        elif kind == "text_link" and part.get("href") and part["href"] != piece:
            piece = f"{piece} ({part['href']})"
        parts.append(piece)
    return "".join(parts), mentioned


def _markers(raw: dict) -> list[str]:
    """Short bracketed notes for what a message carries besides text."""
    out = []
    if raw.get("photo") is not None:
        out.append("[photo]")
    media = raw.get("media_type") if isinstance(raw.get("media_type"), str) else None
    if media == "sticker":
        out.append(f"[sticker {raw.get('sticker_emoji') or ''}]".replace(" ]", "]"))
    elif media in MEDIA:
        out.append(f"[{MEDIA[media]}]")
    elif raw.get("file") is not None or raw.get("file_name"):
        name = raw.get("file_name") or Path(str(raw.get("file") or "")).name
        out.append(f"[file: {name}]" if name and not str(name).startswith("(") else "[file]")
    if isinstance(raw.get("poll"), dict):
        out.append(f"[poll: {raw['poll'].get('question') or ''}]")
    if raw.get("location_information") is not None:
        out.append("[location]")
    if raw.get("contact_information") is not None:
        out.append("[contact]")
    return out
