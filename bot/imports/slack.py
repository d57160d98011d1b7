"""Slack's workspace export (the zip Slack gives, or its unpacked folder), one channel at a time.

The export holds `users.json`, `channels.json` (and `groups.json` for private channels) and one
folder per channel with a file per day, `<channel>/YYYY-MM-DD.json`, each a JSON array of message
objects (`type`, `subtype`, `user`, `text`, `ts`, `thread_ts`, `files`, ...). Only `users.json`,
the channel lists and the chosen channel's folder are read.

Every message becomes one archived message except `channel_join`/`channel_leave` (and the
`group_` twins of private channels). Text is Slack's markup (api.slack.com "Formatting text"):
`<@U123>` becomes @ + the user's display name (else real name), `<#C1|general>` #general,
`<!here>` @here, `<https://x|label>` "label (https://x)", and `&amp;`, `&lt;`, `&gt;` are
unescaped. `ts` is the message id; a reply in a thread links to its parent (`thread_ts`).
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from bot.imports.model import Entry, ExportError, Imported, Progress, Skipped

JOIN_LEAVE = {"channel_join", "channel_leave", "group_join", "group_leave"}
DAY_FILE = re.compile(r"^\d{4}-\d{2}-\d{2}\.json$")
MARKUP = re.compile(r"<([^<>]*)>")


class _Export:
    """The files of an export, zipped or unpacked, by their path inside the export."""

    def __init__(self, path: Path):
        self.path = path
        self.zip = None
        if path.is_file():
            try:
                self.zip = zipfile.ZipFile(path)
            except (zipfile.BadZipFile, OSError) as exc:
                raise ExportError(f"{path}: not a Slack export zip: {exc}") from None
            names = [n for n in self.zip.namelist() if not n.endswith("/")]
        elif path.is_dir():
            names = [p.relative_to(path).as_posix() for p in path.rglob("*.json")]
        else:
            raise ExportError(f"{path}: no such file or folder")
        users = [n for n in names if PurePosixPath(n).name == "users.json"]
        if not users:
            raise ExportError(f"{path}: not a Slack workspace export (no users.json)")
        self.root = str(PurePosixPath(min(users, key=len)).parent).removeprefix(".")
        self.names = set(names)

    def _inside(self, name: str) -> str:
        return f"{self.root}/{name}" if self.root else name

    def has(self, name: str) -> bool:
        return self._inside(name) in self.names

    def json(self, name: str):
        inside = self._inside(name)
        try:
            if self.zip is not None:
                raw = self.zip.read(inside)
            else:
                raw = (self.path / inside).read_bytes()
            return json.loads(raw)
        except (OSError, KeyError, zipfile.BadZipFile) as exc:
            raise ExportError(f"{self.path}: cannot read {name}: {exc}") from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise ExportError(f"{self.path}: {name} is not valid JSON: {exc}") from None

    def days(self, folder: str) -> list[str]:
        prefix = self._inside(folder) + "/"
        return sorted(name[len(prefix):] for name in self.names
                      if name.startswith(prefix) and DAY_FILE.match(name[len(prefix):]))


def read_export(path: str | Path, channel: str | None = None, progress: Progress | None = None,
                zone: str | None = None) -> Iterator[Entry]:
    """The chosen channel's messages, day file by day file, in time order."""
    if not channel:
        raise ExportError("a Slack export holds many channels: choose one with --channel NAME")
    export = _Export(Path(path))
    users = _user_names(export.json("users.json"))
    channels = _channels(export)
    folder = _folder(channels, channel, export)
    files = export.days(folder)
    for done, name in enumerate(files, start=1):
        day = export.json(f"{folder}/{name}")
        if not isinstance(day, list):
            raise ExportError(f"{path}: {folder}/{name} is not a list of messages")
        for raw in sorted((m for m in day if isinstance(m, dict)), key=_ts_key):
            yield _entry(raw, users, channels)
        yield from (Skipped("entry that is not an object") for m in day if not isinstance(m, dict))
        if progress:
            progress(done, len(files))


def _ts_key(raw: dict) -> float:
    try:
        return float(raw.get("ts") or 0)
    except (TypeError, ValueError):
        return 0.0


def _user_names(users) -> dict[str, str]:
    """User id -> display name, else real name, else the account name."""
    names = {}
    for user in users if isinstance(users, list) else []:
        if not isinstance(user, dict) or not user.get("id"):
            continue
        profile = _dict(user.get("profile"))
        names[str(user["id"])] = str(profile.get("display_name") or profile.get("real_name")
                                     or user.get("real_name") or user.get("name") or user["id"])
    return names


def _channels(export: _Export) -> dict[str, str]:
    """Channel id -> name, public and private."""
    found = {}
    for listing in ("channels.json", "groups.json"):
        if export.has(listing):
            for item in _list(export.json(listing)):
                if isinstance(item, dict) and item.get("id") and item.get("name"):
                    found[str(item["id"])] = str(item["name"])
    return found


def _folder(channels: dict[str, str], wanted: str, export: _Export) -> str:
    wanted = wanted.lstrip("#")
    name = channels.get(wanted, wanted)
    if name in channels.values() or export.days(name):
        return name
    listed = ", ".join(sorted(channels.values())[:15]) or "none"
    raise ExportError(f"no channel {wanted!r} in this export (channels: {listed})")


def _entry(raw: dict, users: dict[str, str], channels: dict[str, str]) -> Entry:
    subtype = raw.get("subtype")
    if subtype in JOIN_LEAVE:
        return Skipped(str(subtype))
    if raw.get("type", "message") != "message":
        return Skipped(f"entry of type {raw.get('type')!r}")
    try:
        when = dt.datetime.fromtimestamp(float(raw["ts"]), dt.timezone.utc)
    except (KeyError, TypeError, ValueError, OverflowError, OSError):
        return Skipped("message without a ts")
    user = str(raw.get("user") or "")
    speaker = (users.get(user) or _dict(raw.get("user_profile")).get("display_name") or raw.get("username")
               or _dict(raw.get("bot_profile")).get("name") or user or raw.get("bot_id") or "(unknown)")
    mentioned: list[str] = []
    text = render(raw["text"] if isinstance(raw.get("text"), str) else "", users, channels, mentioned)
    files = [f"[file: {f.get('name') or f.get('title') or 'file'}]" for f in _list(raw.get("files"))
             if isinstance(f, dict)]
    ts, thread = str(raw["ts"]), raw.get("thread_ts") if isinstance(raw.get("thread_ts"), str) else None
    return Imported(time=when, speaker=str(speaker), text=" ".join(filter(None, [*files, text])), id=ts,
                    reply_to=str(thread) if thread and str(thread) != ts else None, mentions=tuple(mentioned))


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value) -> list:
    return value if isinstance(value, list) else []


def render(text: str, users: dict[str, str], channels: dict[str, str], mentioned: list[str] | None = None) -> str:
    """Slack markup as readable text; the names of mentioned users are added to `mentioned`."""
    def replace(match: re.Match) -> str:
        inner = match.group(1)
        target, _, label = inner.partition("|")
        if target.startswith("@"):
            name = users.get(target[1:]) or label or target[1:]
            if mentioned is not None:
                mentioned.append(name)
            return "@" + name
        if target.startswith("#"):
            return "#" + (label or channels.get(target[1:]) or target[1:])
        if target.startswith("!"):  # <!here>, <!subteam^ID|@team>, <!date^...|fallback>
            return label or "@" + target[1:].split("^")[0]
        if target.startswith("mailto:"):
            return label or target[len("mailto:"):]
        return f"{label} ({target})" if label and label != target else target

    return html.unescape(MARKUP.sub(replace, text)) if "<" in text or "&" in text else text
