"""Bridge adapter: a small signed JSON protocol for a helper program (e.g. a Wechaty bot for WeChat).

The full protocol, with examples, is docs/bridge-protocol.md. In short: the bridge POSTs events to
`/webhook/bridge` with `X-Bridge-Timestamp` (unix seconds) and `X-Bridge-Signature:
sha256=<hex HMAC-SHA256(secret, timestamp + "." + raw body)>`; requests older or newer than
`window_seconds` are refused. The bot POSTs replies to `callback_url`, signed the same way.
Event types: "message", "join", "member_update"; unknown types are acknowledged and ignored so a
newer bridge can talk to an older bot.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import hmac
import json
import re
import time
from typing import Any

import aiohttp

from bot.chat import Incoming, Member, MemberUpdate, Outgoing, Reaction, Sent
from bot.config import BridgeSection
from bot.platforms.base import Parsed, Rejected, Request, json_object
from bot.platforms.pacing import Answer, Clock, Pacer, RetryLater, SendFailed, Sleep, pacer_clock, post
from bot.platforms.text import parse_command, split_text

MAX_TEXT = 2000  # characters per reply part: long WeChat messages fold and go unread
TIMESTAMP_HEADER = "X-Bridge-Timestamp"
SIGNATURE_HEADER = "X-Bridge-Signature"
_LEADING_MENTION = re.compile(r"^\s*@\S+[\s\u2005]+")


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The X-Bridge-Signature value for `body` sent at `timestamp`."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return "sha256=" + digest


def _text(value: Any, field: str, *, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int)) or str(value) == "":
        raise Rejected(400, f"{field} must be a non-empty string")
    return str(value)


def _member(value: Any, field: str) -> Member:
    if not isinstance(value, dict):
        raise Rejected(400, f"{field} must be an object with id and name")
    member_id = _text(value.get("id"), f"{field}.id")
    name = value.get("name")
    return Member(member_id, str(name) if isinstance(name, str) and name else member_id,
                  value.get("is_bot") is True)


def _members(value: Any, field: str) -> tuple[Member, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise Rejected(400, f"{field} must be a list")
    return tuple(_member(item, f"{field}[{n}]") for n, item in enumerate(value))


class BridgeAdapter:
    """The bot's side of the bridge protocol."""

    name = "bridge"
    max_text = MAX_TEXT
    supports_images = True
    renders_markdown = False  # a bridge to personal WeChat shows text as it is
    methods = ("POST",)
    content_types = ("application/json",)
    enabled_by = "secret"

    def __init__(self, config: BridgeSection, http: aiohttp.ClientSession, *,
                 clock: Clock = time.time, sleep: Sleep = asyncio.sleep,
                 pacer: Pacer | None = None, attempts: int = 4):
        self._config, self._http, self._clock, self._sleep = config, http, clock, sleep
        # WeChat accounts get banned for bursts: the same pace as a Telegram group.
        self._pacer = pacer or Pacer([(1, 1.0), (20, 60.0)], clock=pacer_clock(clock), sleep=sleep)
        self._attempts = attempts

    def __repr__(self) -> str:
        return "<BridgeAdapter>"

    # -- inbound -----------------------------------------------------------------------------

    def verify(self, request: Request) -> None:
        if not self._config.secret:
            raise Rejected(401, "bridge secret is not configured")
        timestamp = request.headers.get(TIMESTAMP_HEADER, "")
        given = request.headers.get(SIGNATURE_HEADER, "")
        if not timestamp or not given:
            raise Rejected(401, f"missing {TIMESTAMP_HEADER} or {SIGNATURE_HEADER}")
        if not timestamp.isdigit():
            raise Rejected(401, "bad timestamp")
        if abs(self._clock() - int(timestamp)) > self._config.window_seconds:
            raise Rejected(401, "stale or future timestamp")
        if not hmac.compare_digest(given.encode(), sign(self._config.secret, timestamp, request.body).encode()):
            raise Rejected(401, "bad signature")

    def parse(self, request: Request) -> Parsed:
        event = json_object(request.body, "body must be a JSON object")
        kind = event.get("type")
        chat_id = _text(event.get("chat_id"), "chat_id") if kind in ("message", "join", "member_update",
                                                                     "reaction") else ""
        when = self._time(event.get("time"))
        if kind == "message":
            return self._message(event, chat_id, when)
        if kind == "join":
            members = _members(event.get("members"), "members")
            if not members:
                raise Rejected(400, "join without members")
            event_id = event.get("event_id") or hashlib.sha256(request.body).hexdigest()[:24]
            message = Incoming(platform=self.name, chat_id=chat_id, message_id=f"join-{event_id}",
                               sender=members[0], text="", time=when, joined=members)
            return Parsed(messages=(message,), delivery_id=str(event_id))
        if kind == "member_update":
            member = _member(event.get("member"), "member")
            return Parsed(member_updates=(MemberUpdate(self.name, chat_id, member, when),))
        if kind == "reaction":
            emoji = _text(event.get("emoji"), "emoji")
            removed = event.get("removed", False)
            if not isinstance(removed, bool):
                raise Rejected(400, "removed must be true or false")
            reaction = Reaction(platform=self.name, chat_id=chat_id, message_id=_text(event.get("message_id"), "message_id"),
                                member=_member(event.get("member"), "member"), time=when,
                                added=() if removed else (emoji,), removed=(emoji,) if removed else ())
            return Parsed(reactions=(reaction,))
        return Parsed()

    def _message(self, event: dict, chat_id: str, when: dt.datetime) -> Parsed:
        message_id = _text(event.get("message_id"), "message_id")
        sender = _member(event.get("sender"), "sender")
        text = event.get("text", "")
        if not isinstance(text, str):
            raise Rejected(400, "text must be a string")
        addressed = event.get("addressed") is True
        command_text = _LEADING_MENTION.sub("", text, count=1) if addressed else text
        command, args, _ = parse_command(command_text)
        reply_to = _text(event.get("reply_to"), "reply_to", required=False) or None
        thread = _text(event.get("thread_id"), "thread_id", required=False) or None
        message = Incoming(
            platform=self.name, chat_id=chat_id, message_id=message_id, sender=sender, text=text,
            time=when, mentions=_members(event.get("mentions"), "mentions"), reply_to=reply_to,
            thread_id=thread, command=command, args=args, addressed=addressed,
            edited=event.get("edited") is True)
        return Parsed(messages=(message,), delivery_id=message_id)

    def _time(self, value: Any) -> dt.datetime:
        if value is None:
            return dt.datetime.fromtimestamp(self._clock(), dt.timezone.utc)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            try:
                return dt.datetime.fromtimestamp(value, dt.timezone.utc)
            except (OverflowError, OSError, ValueError):
                raise Rejected(400, "time out of range") from None
        if isinstance(value, str):
            try:
                parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                raise Rejected(400, "time must be ISO 8601 or unix seconds") from None
            if parsed.tzinfo is None:
                raise Rejected(400, "time must carry a UTC offset")
            return parsed
        raise Rejected(400, "time must be ISO 8601 or unix seconds")

    # -- outbound ----------------------------------------------------------------------------

    async def send(self, out: Outgoing) -> Sent:
        mentions = [{"id": m.id, "name": m.name} for m in out.mentions]
        ids: list[str] = []
        for number, part in enumerate(split_text(out.text, MAX_TEXT) if out.text else []):
            body: dict = {"chat_id": out.chat_id, "text": part, "markdown": out.markdown,
                          "mentions": mentions if number == 0 else []}
            if out.reply_to:
                body["reply_to"] = out.reply_to
            if out.thread_id:
                body["thread_id"] = out.thread_id
            ids.append(await self._post(body, out.chat_id))
        if out.image_png:
            body = {"chat_id": out.chat_id, "image": {"png_base64": base64.b64encode(out.image_png).decode(),
                                                      "caption": out.image_caption}}
            if out.reply_to:
                body["reply_to"] = out.reply_to
            ids.append(await self._post(body, out.chat_id))
        return Sent(tuple(ids))

    async def _post(self, body: dict, chat_id: str) -> str:
        if not self._config.callback_url or not self._config.secret:
            raise SendFailed(self.name, "callback_url and secret must be configured")
        raw = json.dumps(body, ensure_ascii=False).encode()

        def request() -> dict:
            timestamp = str(int(self._clock()))  # signed per attempt: a retry must be fresh too
            return {"data": raw, "headers": {"Content-Type": "application/json", TIMESTAMP_HEADER: timestamp,
                                             SIGNATURE_HEADER: sign(self._config.secret, timestamp, raw)}}

        def read(answer: Answer) -> str:
            if answer.status == 429:
                raise RetryLater("callback: rate limited", answer.retry_after, answer.status)
            if answer.status >= 500:
                raise RetryLater(f"callback: HTTP {answer.status}", None, answer.status)
            if answer.status != 200 or not answer.body.get("ok"):
                raise SendFailed(self.name, f"callback: HTTP {answer.status} {str(answer.body.get('error', ''))[:100]}",
                                 answer.status)
            return str(answer.body.get("message_id", ""))

        return await post(self._http, self._config.callback_url, request, read, platform=self.name, what="callback",
                          sleep=self._sleep, attempts=self._attempts, pacer=self._pacer, pace_key=chat_id)


ADAPTER = BridgeAdapter  # what bot.platforms.adapter_classes() registers
