"""WeCom (企业微信) adapter: self-built app callbacks in, group-robot messages out.

Callbacks are encrypted (WXBizMsgCrypt scheme):
  msg_signature = sha1(sorted([token, timestamp, nonce, encrypt]) joined).hexdigest()
  key = base64decode(EncodingAESKey + "="), 32 bytes; AES-256-CBC with IV = key[:16]
  plaintext = 16 random bytes + 4-byte big-endian length + message + receive id (the corp id),
  PKCS#7-padded to 32-byte blocks.
`GET ?msg_signature&timestamp&nonce&echostr` (URL verification) is answered with the decrypted
echostr; `POST` carries `<xml><ToUserName/><Encrypt/><AgentID/></xml>` and is answered with an
empty 200 (WeCom then does not retry). XML with a DTD or entity declarations is refused.
The signed `timestamp` must lie within `window_seconds` of the clock (as the bridge's), so a
captured callback cannot be replayed later; within the window a replay carries a MsgId the store
already holds, so it is stored and answered once.

Chat ids: a message carrying `ChatId` (a group chat created through the app) uses it; otherwise
the chat is the app itself and chat_id is its AgentID (configure `chats` with that id). The
sender is the WeCom userid (callbacks carry no display name).

Replies go through the group robot (`robot_webhook_url`, whose `key` is a secret): text parts of
at most 2,048 UTF-8 bytes (markdown 4,096), mentions in `mentioned_list`, 20 messages a minute
per robot, errcode 45009 (rate limited) waited out and retried. The robot returns no message ids,
so `Sent.message_ids` holds one empty string per delivered part.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import hmac
import os
import re
import struct
import time
import xml.etree.ElementTree as ET

import aiohttp
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from bot.chat import Incoming, Member, Outgoing, Sent
from bot.config import WecomSection
from bot.platforms.base import Parsed, Rejected, Request
from bot.platforms.pacing import Answer, Clock, Pacer, RetryLater, SendFailed, Sleep, pacer_clock, post
from bot.platforms.text import convert_markdown, pack_mentions, parse_command, split_text, utf8_bytes

MAX_TEXT_BYTES = 2048
MAX_MARKDOWN_BYTES = 4096
RATE_LIMITED = 45009
_BLOCK = 32
_UNSAFE_XML = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


class CryptoError(ValueError):
    """The ciphertext does not decrypt to a well-formed WeCom payload."""


def aes_key(encoding_aes_key: str) -> bytes:
    """The AES key from WeCom's 43-character EncodingAESKey (ValueError names the config key)."""
    problem = "must be 43 characters"
    if len(encoding_aes_key) == 43:
        try:
            key = base64.b64decode(encoding_aes_key + "=", validate=True)
        except ValueError:
            key = b""
        if len(key) == 32:
            return key
        problem = "is not base64 for 32 bytes"
    raise ValueError(f"platforms.wecom.encoding_aes_key {problem}")


def signature(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypted])).encode()).hexdigest()


def encrypt(key: bytes, message: bytes, receive_id: str, random16: bytes | None = None) -> str:
    """The `Encrypt` value WeCom would send for `message` (also what a passive reply needs)."""
    body = (random16 or os.urandom(16)) + struct.pack(">I", len(message)) + message + receive_id.encode()
    pad = _BLOCK - len(body) % _BLOCK
    body += bytes([pad]) * pad
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(body) + encryptor.finalize()).decode()


def decrypt(key: bytes, encrypted: str) -> tuple[bytes, str]:
    """`Encrypt` value → (message, receive id); `CryptoError` for anything malformed."""
    try:
        data = base64.b64decode(encrypted, validate=True)
    except ValueError:
        raise CryptoError("ciphertext is not base64") from None
    if not data or len(data) % 16:
        raise CryptoError("ciphertext is not a whole number of AES blocks")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    plain = decryptor.update(data) + decryptor.finalize()
    pad = plain[-1]
    if not 1 <= pad <= _BLOCK or plain[-pad:] != bytes([pad]) * pad:
        raise CryptoError("bad padding")
    plain = plain[:-pad]
    if len(plain) < 20:
        raise CryptoError("plaintext too short")
    (length,) = struct.unpack(">I", plain[16:20])
    if 20 + length > len(plain):
        raise CryptoError("length field exceeds plaintext")
    try:
        receive_id = plain[20 + length:].decode("utf-8")
    except UnicodeDecodeError:
        raise CryptoError("receive id is not UTF-8") from None
    return plain[20:20 + length], receive_id


def parse_xml(data: bytes) -> dict[str, str]:
    """A flat WeCom XML document → {tag: text}; refuses DTDs and entity declarations."""
    if _UNSAFE_XML.search(data):
        raise Rejected(400, "XML with DTD or entities is refused")
    try:
        root = ET.fromstring(data)
    except ET.ParseError:
        raise Rejected(400, "malformed XML") from None
    if root.tag != "xml":
        raise Rejected(400, "root element must be <xml>")
    return {child.tag: (child.text or "").strip() for child in root}


class WecomAdapter:
    """One self-built app (callbacks) plus one group robot (replies)."""

    name = "wecom"
    max_text = MAX_TEXT_BYTES  # bytes, not characters
    supports_images = True
    renders_markdown = True  # Outgoing.markdown is turned into the platform's own markup
    methods = ("GET", "POST")  # WeCom verifies the callback URL with a signed GET
    content_types = ("text/xml", "application/xml", "text/plain")
    enabled_by = "token"

    def __init__(self, config: WecomSection, http: aiohttp.ClientSession, *,
                 clock: Clock = time.time, sleep: Sleep = asyncio.sleep,
                 pacer: Pacer | None = None, attempts: int = 4, rate_limit_wait: float = 60.0):
        self._config, self._http, self._clock, self._sleep = config, http, clock, sleep
        self._key = aes_key(config.encoding_aes_key) if config.encoding_aes_key else None
        self._pacer = pacer or Pacer([(20, 60.0)], clock=pacer_clock(clock), sleep=sleep)
        self._attempts, self._rate_limit_wait = attempts, rate_limit_wait

    def __repr__(self) -> str:
        return f"<WecomAdapter corp={self._config.corp_id or '?'}>"

    # -- inbound -----------------------------------------------------------------------------

    def verify(self, request: Request) -> None:
        if not self._config.token or self._key is None or not self._config.corp_id:
            raise Rejected(401, "wecom token, encoding_aes_key and corp_id must be configured")
        query = request.query
        given, timestamp, nonce = (query.get(k, "") for k in ("msg_signature", "timestamp", "nonce"))
        if not (given and timestamp and nonce):
            raise Rejected(401, "missing msg_signature, timestamp or nonce")
        encrypted = query.get("echostr", "") if request.method == "GET" else self._envelope(request.body)
        if not encrypted:
            raise Rejected(400, "missing echostr" if request.method == "GET" else "missing Encrypt")
        expected = signature(self._config.token, timestamp, nonce, encrypted)
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise Rejected(401, "bad msg_signature")
        if not timestamp.isdigit() or abs(self._clock() - int(timestamp)) > self._config.window_seconds:
            raise Rejected(401, "stale or future timestamp")

    @staticmethod
    def _envelope(body: bytes) -> str:
        return parse_xml(body).get("Encrypt", "")

    def _open(self, encrypted: str) -> bytes:
        assert self._key is not None  # verify() ran first
        try:
            message, receive_id = decrypt(self._key, encrypted)
        except CryptoError as exc:
            raise Rejected(400, f"cannot decrypt: {exc}") from None
        if not hmac.compare_digest(receive_id.encode(), self._config.corp_id.encode()):
            raise Rejected(403, "receive id does not match corp_id")
        return message

    def parse(self, request: Request) -> Parsed:
        if request.method == "GET":
            plain = self._open(request.query.get("echostr", ""))
            return Parsed(response_body=plain, response_type="text/plain")
        fields = parse_xml(self._open(self._envelope(request.body)))
        if fields.get("MsgType") != "text":
            return Parsed(delivery_id=fields.get("MsgId") or None)  # events, images, voice: ack only
        missing = [key for key in ("FromUserName", "CreateTime", "MsgId") if not fields.get(key)]
        if missing:
            raise Rejected(400, f"text message without {', '.join(missing)}")
        try:
            sent_at = dt.datetime.fromtimestamp(int(fields["CreateTime"]), dt.timezone.utc)
        except (ValueError, OverflowError, OSError):  # OSError: a year the platform C library refuses
            raise Rejected(400, "bad CreateTime") from None
        text = fields.get("Content", "")
        command, args, _ = parse_command(text)
        group = fields.get("ChatId")
        user = fields["FromUserName"]
        message = Incoming(
            platform=self.name, chat_id=group or fields.get("AgentID") or "app", message_id=fields["MsgId"],
            sender=Member(user, user), text=text, time=sent_at, command=command, args=args,
            addressed=not group)
        return Parsed(messages=(message,), delivery_id=fields["MsgId"])

    # -- outbound ----------------------------------------------------------------------------

    async def send(self, out: Outgoing) -> Sent:
        ids: list[str] = []
        if out.markdown:
            runs = pack_mentions([(f"<@{m.id}>", utf8_bytes(m.id) + 3) for m in out.mentions],
                                 MAX_MARKDOWN_BYTES // 2)
            prefix = runs.pop()[0] if runs else ""
            for content in [run for run, _ in runs] + self._markdown_parts(out.text, prefix):
                ids.append(await self._post({"msgtype": "markdown", "markdown": {"content": content}}))
        else:
            mentioned = [m.id for m in out.mentions]
            for number, part in enumerate(split_text(out.text, MAX_TEXT_BYTES, utf8_bytes) if out.text else []):
                text: dict = {"content": part}
                if number == 0 and mentioned:
                    text["mentioned_list"] = mentioned
                ids.append(await self._post({"msgtype": "text", "text": text}))
        if out.image_png:
            png = out.image_png
            ids.append(await self._post({"msgtype": "image", "image": {
                "base64": base64.b64encode(png).decode(), "md5": hashlib.md5(png).hexdigest()}}))
        return Sent(tuple(ids))

    @staticmethod
    def _markdown_parts(text: str, prefix: str) -> list[str]:
        """Split, then convert (*x* becomes **x**): shrink the split size until every part fits."""
        room = MAX_MARKDOWN_BYTES - utf8_bytes(prefix) - 1
        while True:
            parts = [convert_markdown(part, bold="**{0}**", code="`{0}`", link="[{label}]({url})")
                     for part in (split_text(text, room, utf8_bytes) if text else [])]
            if prefix:
                parts[:1] = [f"{prefix} {parts[0]}" if parts else prefix]
            if all(utf8_bytes(part) <= MAX_MARKDOWN_BYTES for part in parts):
                return parts
            room = room * 9 // 10

    async def _post(self, payload: dict) -> str:
        url = self._config.robot_webhook_url
        if not url:
            raise SendFailed(self.name, "robot_webhook_url is not configured")

        def read(answer: Answer) -> str:
            if answer.status >= 500 or answer.status == 429:
                raise RetryLater(f"robot send: HTTP {answer.status}", None, answer.status)
            if answer.status != 200 or not answer.body:
                raise SendFailed(self.name, f"robot send: HTTP {answer.status}", answer.status)
            code = answer.body.get("errcode")
            if code == 0:
                return ""
            if code == RATE_LIMITED:
                raise RetryLater("robot send: errcode 45009 (rate limited)", self._rate_limit_wait, 429)
            raise SendFailed(self.name, f"robot send: errcode {code} {str(answer.body.get('errmsg', ''))[:100]}")

        # the robot URL carries its key: `post` reports connection errors by class only
        return await post(self._http, url, lambda: {"json": payload}, read, platform=self.name, what="robot send",
                          sleep=self._sleep, attempts=self._attempts, pacer=self._pacer, pace_key="robot")


ADAPTER = WecomAdapter  # what bot.platforms.adapter_classes() registers
