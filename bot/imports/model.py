"""What every export reader yields, and the speaker renaming that `--map-names` asks for.

Readers (bot/imports/telegram.py, slack.py, whatsapp.py, table.py) turn one chat of an export
into `Imported` messages and `Skipped` entries, in export order; bot/imports/days.py turns those
into day files. Readers keep the export's display names; `NameMap` renames or anonymises them.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import re
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path


class ExportError(Exception):
    """The export cannot be imported at all (wrong format, chat not found); one line for the user."""


@dataclass(frozen=True, slots=True)
class Imported:
    """One message of the export."""

    time: dt.datetime  # timezone-aware
    speaker: str  # the export's display name
    text: str
    id: str | None = None  # the platform's message id, when the export has one
    reply_to: str | None = None  # the platform id of the message it replies to
    mentions: tuple[str, ...] = ()  # names the text mentions as "@name" (renamed along with speakers)
    forwarded_from: str | None = None  # whose message this forwards (a name, renamed like a speaker)


@dataclass(frozen=True, slots=True)
class Skipped:
    """An export entry that is not a message, with the reason shown in the summary."""

    reason: str  # e.g. "service: invite_members", "channel_join", "system line"


Entry = Imported | Skipped
_SURROGATE = re.compile("[\ud800-\udfff]")
Progress = Callable[[int, int], None]  # (bytes read, total bytes)
Reader = Callable[..., Iterator[Entry]]


def clean_text(text: str) -> str:
    """Text the archive can hold: Unix line ends, no NUL, no lone surrogates, no outer blanks."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\x00" in text:
        text = text.replace("\x00", "")
    if not text.isascii() and _SURROGATE.search(text):
        text = _SURROGATE.sub("\ufffd", text)
    return text.strip()


@functools.lru_cache(maxsize=1 << 14)  # a chat has few speakers and says their names a million times
def clean_name(name: str) -> str:
    """A display name on one header line: whitespace runs become one space."""
    return " ".join(clean_text(name).split()) or "(unknown)"


@dataclass(slots=True)
class NameMap:
    """Speaker renames from a TOML file; optionally every other speaker gets a pseudonym.

        [rename]
        "Alice Liddell" = "Alice"
        [anonymise]
        others = true          # speakers not renamed above become "Member 3f9a2c"
        salt = "a long secret"  # same salt, same pseudonyms on the next import

    Mentions of a renamed speaker ("@Alice Liddell", Telegram and Slack mentions) are renamed too.
    """

    rename: dict[str, str] = field(default_factory=dict)
    salt: str | None = None  # set: anonymise everyone not in `rename`
    _mention: re.Pattern | None = None

    @classmethod
    def load(cls, path: str | Path) -> NameMap:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise ExportError(f"{path}: cannot read the name map: {exc.strerror or exc}") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ExportError(f"{path}: not a TOML name map: {exc}") from None
        unknown = set(data) - {"rename", "anonymise"}
        if unknown:
            raise ExportError(f"{path}: unknown section {sorted(unknown)[0]!r} (expected [rename] and [anonymise])")
        rename = data.get("rename", {})
        if not isinstance(rename, dict) or not all(isinstance(v, str) and v.strip() for v in rename.values()):
            raise ExportError(f"{path}: [rename] must map names to non-empty names")
        anonymise = data.get("anonymise", {})
        salt = None
        if anonymise.get("others"):
            salt = anonymise.get("salt")
            if not isinstance(salt, str) or len(salt) < 8:
                raise ExportError(f"{path}: [anonymise] others = true needs a salt of at least 8 characters")
        return cls({clean_name(k): clean_name(v) for k, v in rename.items()}, salt)

    def name(self, original: str) -> str:
        if original in self.rename:
            return self.rename[original]
        if self.salt is None:
            return original
        code = hmac.new(self.salt.encode(), original.encode("utf-8", "replace"), hashlib.sha256).hexdigest()[:6]
        return f"Member {code}"

    def text(self, text: str, mentioned: tuple[str, ...] = ()) -> str:
        """Rename "@name" for the renamed speakers and for the names the reader saw mentioned."""
        if not self.rename and self.salt is None:
            return text
        for original in sorted(set(mentioned), key=len, reverse=True):
            text = text.replace(f"@{original}", f"@{self.name(original)}")
        if self.rename and "@" in text:
            if self._mention is None:
                names = sorted(self.rename, key=len, reverse=True)
                self._mention = re.compile("@(" + "|".join(map(re.escape, names)) + ")")
            text = self._mention.sub(lambda m: "@" + self.rename[m.group(1)], text)
        return text
