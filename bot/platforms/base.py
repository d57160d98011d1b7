"""What every platform adapter provides, so the server and handlers stay platform-free.

The webhook path is: verify(raw body, headers) -> parse(...) -> store -> acknowledge -> dispatch.
Verification runs on the raw bytes, in constant time, before any parsing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

import orjson

from bot.chat import Incoming, MemberUpdate, Outgoing, Reaction, Sent


class Rejected(Exception):
    """The request is refused; `status` is the HTTP answer (4xx) and `reason` a short text."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status, self.reason = status, reason


# A run of 19 digits, found as a run of 19 zeros once every digit reads as "0": two C passes over
# the body, a tenth of the time the regular expression [0-9]{19} took.
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_RUN = b"0" * 19
_UNREAD = object()


def json_object(body: bytes, not_object: str) -> dict:
    """The body as a JSON object; `Rejected(400)` (with `not_object` when it is JSON of another
    shape) so a malformed webhook is the sender's 4xx, never our 500.

    orjson parses the common body in a seventh of the standard parser's time (the webhook's
    busiest step after aiohttp's own); what it refuses but the standard parser reads (a lone
    surrogate escape, NaN, a byte-order mark) goes to the standard parser, so every body keeps the
    fate it had: read and then cleaned or bounded, or a 400. orjson reads an integer outside 64
    bits as a float (a different value), so a body with a run of 19 digits goes to the standard
    parser at once (platform ids are shorter)."""
    value = _UNREAD
    if _LONG_RUN not in body.translate(_DIGITS_AS_ZERO):
        try:
            value = orjson.loads(body)
        except orjson.JSONDecodeError:
            pass
    if value is _UNREAD:
        try:
            value = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise Rejected(400, "body is not JSON") from None
    if not isinstance(value, dict):
        raise Rejected(400, not_object)
    return value


# Request and Parsed are built for every webhook request and never changed after: plain slotted
# dataclasses, since a frozen one's __init__ sets each field through object.__setattr__ (about
# 1,400 instructions a field: a tenth of a chatter request's parse and bounds check went to them).
@dataclass(slots=True)
class Request:
    """The parts of an HTTP request an adapter may look at (no aiohttp types)."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]  # case-insensitive mapping
    body: bytes


@dataclass(slots=True)
class Parsed:
    """The outcome of parsing one verified request.

    `messages` go to the store and the dispatcher; `response` is what the HTTP answer carries
    (a challenge echo, an encrypted reply, or empty for a plain 200); `delivery_id` marks a
    platform retry of the same delivery. `member_updates` (renames without a message) go to the
    store's members table and to the dispatcher's member-update routes; `reactions` go to its
    reaction routes (not stored as messages). `extra` holds
    adapter-specific facts nothing downstream relies on (e.g. Slack's retry number).
    """

    messages: tuple[Incoming, ...] = ()
    response_body: bytes = b""
    response_type: str = "text/plain"
    status: int = 200
    delivery_id: str | None = None
    member_updates: tuple[MemberUpdate, ...] = ()
    reactions: tuple[Reaction, ...] = ()  # feedback on messages; go to the dispatcher's reaction routes
    extra: dict = field(default_factory=dict)


class Adapter(Protocol):
    """A platform module's `ADAPTER` class: `Adapter(config section, http session, **options)`."""

    name: str
    methods: tuple[str, ...]  # HTTP methods its webhook takes ("GET" for URL verification)
    content_types: tuple[str, ...]  # of POST bodies; others are answered 415
    enabled_by: str  # the config section's key that turns the platform on without a chat
    renders_markdown: bool
    supports_images: bool

    def verify(self, request: Request) -> None:
        """Raise `Rejected` unless the request is authentic and fresh."""

    def parse(self, request: Request) -> Parsed:
        """Turn a verified request into neutral messages; `Rejected` (4xx) for bad bodies."""

    async def send(self, message: Outgoing) -> Sent:
        """Deliver text to a chat: render mentions, split at the limit, pace, honour 429s."""
