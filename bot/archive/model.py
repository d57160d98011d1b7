"""The archive's data model: a Day of ordered Messages, independent of any file format."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from typing import NamedTuple


DEFAULT_ZONE = "Asia/Shanghai"  # the group's zone: the archive's times are local times there


class DayKey(NamedTuple):
    """Which stored day: a group and an ISO date (a plain tuple, so it also keys SQL look-ups)."""

    group: str
    date: str


class MessageKind(str, enum.Enum):
    TEXT = "text"
    IMAGE = "image"
    EMOJI = "emoji"  # only emoji codes like [强] or export-mangled emoji (??)


@dataclass(frozen=True, slots=True)
class Message:
    """One chat message as the archive holds it."""

    time: dt.datetime  # timezone-aware
    speaker: str  # display name at the time (the nickname rule reads it)
    text: str  # unescaped text; paragraphs joined with "\n"
    kind: MessageKind = MessageKind.TEXT
    mentions: tuple[str, ...] = ()
    image_url: str | None = None
    source: str | None = None  # file the message was read from
    line: int | None = None  # 1-based line of its "> HH:MM:SS" header
    id: str | None = None  # archive message id (bot.archive.links.anchor of the platform's id)
    reply_to: str | None = None  # id of the message this one replies to (same or an earlier day)

    def same_content(self, other: Message) -> bool:
        """Equality that ignores where the message was read from (for round trips)."""
        return (self.time, self.speaker, self.text, self.kind, self.mentions, self.image_url, self.id,
                self.reply_to) == (other.time, other.speaker, other.text, other.kind, other.mentions,
                                   other.image_url, other.id, other.reply_to)


@dataclass(slots=True)
class Day:
    """One group's messages of one calendar day."""

    group: str
    date: dt.date
    title: str
    author: str
    declared_lines: int | None = None  # front matter `lines`; metadata only, rarely exact
    messages: list[Message] = field(default_factory=list)
    source: str | None = None
