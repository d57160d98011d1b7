"""The neutral chat model: what every platform adapter turns its JSON into, and what handlers send.

Handlers never see platform JSON; adapters never see handler logic.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

MAX_NAME = 128  # characters of a display name kept at the adapter boundary and shown in posts


def shorten(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, the cut marked with "…"."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def short_name(name: str) -> str:
    """A display name as digests and reminders show it: at most `MAX_NAME` characters."""
    return shorten(name, MAX_NAME)


@dataclass(frozen=True, slots=True)
class Member:
    """A person on a platform: a stable id plus the display name they use right now."""

    id: str
    name: str
    is_bot: bool = False


@dataclass(frozen=True, slots=True)
class Incoming:
    """One message received in a chat."""

    platform: str  # "telegram" | "slack" | "wecom" | "bridge"
    chat_id: str
    message_id: str
    sender: Member
    text: str
    time: dt.datetime  # timezone-aware
    mentions: tuple[Member, ...] = ()
    reply_to: str | None = None  # message id this one replies to
    thread_id: str | None = None  # platform thread (Slack thread_ts)
    command: str | None = None  # "search" for "/search@OurBot foo"; None for plain text
    args: str = ""  # text after the command
    addressed: bool = False  # the bot was @-mentioned or replied to
    edited: bool = False
    joined: tuple[Member, ...] = ()  # members who joined (join events carry no text)


@dataclass(frozen=True, slots=True)
class MemberUpdate:
    """A member's display name changed in a chat, with no message (a platform's rename event).

    The store keeps the new name and the nickname rule re-checks it at once, so a rename counts
    from the moment it happens, not from the member's next message.
    """

    platform: str
    chat_id: str
    member: Member  # the new display name
    time: dt.datetime  # timezone-aware


@dataclass(frozen=True, slots=True)
class Reaction:
    """A member added or removed reactions on a message (no text): the bot reads them as feedback
    on its answers. `added`/`removed` hold emoji or the platform's reaction names ("+1")."""

    platform: str
    chat_id: str
    message_id: str  # the message reacted to
    member: Member
    time: dt.datetime  # timezone-aware
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Outgoing:
    """Text for one chat; the adapter renders mentions in its own format and splits at its limit."""

    chat_id: str
    text: str
    mentions: tuple[Member, ...] = ()  # rendered before the text, in the platform's format
    reply_to: str | None = None
    thread_id: str | None = None
    markdown: bool = False  # the small Markdown subset: *bold*, `code`, [link](url); \* is a literal *
    image_png: bytes | None = None  # attached chart where the platform takes images
    image_caption: str = ""


@dataclass(frozen=True, slots=True)
class Sent:
    """What the platform said about a delivered message."""

    message_ids: tuple[str, ...] = field(default=())
