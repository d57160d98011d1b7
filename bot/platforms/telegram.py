"""Telegram Bot API adapter: webhook updates in, sendMessage/sendPhoto out.

Verification: the `X-Telegram-Bot-Api-Secret-Token` header set with setWebhook(secret_token=...),
compared in constant time. Parsing: `message` and `edited_message` updates from groups,
supergroups and private chats (private chats are accepted so /help works in a direct message;
they count as addressed to the bot), and `message_reaction` updates (a member's reactions on a
message, read as feedback on the bot's answers). Other update kinds (channel posts, callbacks, member status)
are acknowledged silently, as Telegram otherwise re-delivers them.

Entity offsets are UTF-16 code units, so slicing goes through UTF-16 and never through Python
indices. Replies use HTML parse mode (three characters to escape, unlike MarkdownV2's eighteen).
The bot token lives in the URL path; it never reaches a log line or an exception message.

Setup: setWebhook(url=".../webhook/telegram", secret_token=<platforms.telegram.secret_token>), and
turn the bot's privacy mode off in @BotFather — with it on, a group bot only receives commands,
mentions and replies, so the live archive would miss everything else. Reactions arrive only when
`allowed_updates` lists "message_reaction" and the bot is an administrator of the group.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import html
import json
import re
import time
from collections.abc import Callable

import aiohttp

from bot.chat import Incoming, Member, Outgoing, Reaction, Sent
from bot.config import TelegramSection
from bot.platforms.admins import AdminCache
from bot.platforms.base import Parsed, Rejected, Request, json_object
from bot.platforms.pacing import Answer, Clock, Pacer, RetryLater, SendFailed, Sleep, pacer_clock, post
from bot.platforms.text import convert_markdown, pack_mentions, parse_command, split_text, utf16_units

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_TEXT = 4096  # UTF-16 units after entity parsing
MAX_CAPTION = 1024


def utf16_slice(text: str, offset: int, length: int) -> str:
    """`text[offset:offset+length]` with Telegram's UTF-16 offsets."""
    units = text.encode("utf-16-le")
    return units[2 * offset:2 * (offset + length)].decode("utf-16-le", errors="replace")


def _member(user: dict) -> Member:
    first, last = user.get("first_name"), user.get("last_name")
    name = first + " " + last if first and last else first or last  # a non-text part: TypeError, a 400
    return Member(str(user["id"]), name or user.get("username") or str(user["id"]),
                  bool(user.get("is_bot")))


def _mention_html(member: Member) -> str:
    name = html.escape(member.name, quote=False)
    if member.id.lstrip("-").isdigit():
        return f'<a href="tg://user?id={member.id}">{name}</a>'
    return "@" + html.escape(member.id.lstrip("@"), quote=False)


def _mention_text(member: Member) -> str:
    """What a rendered mention shows (and what Telegram counts against the limit)."""
    return member.name if member.id.lstrip("-").isdigit() else "@" + member.id.lstrip("@")


def _as_html(text: str, markdown: bool) -> str:
    escape: Callable[[str], str] = lambda s: html.escape(s, quote=False)
    if not markdown:
        return escape(text)
    return convert_markdown(text, bold="<b>{0}</b>", code="<code>{0}</code>",
                            link='<a href="{url}">{label}</a>',
                            escape=lambda s: html.escape(s, quote=True))


class TelegramAdapter:
    """One bot account. `clock` (time.time-like) and `sleep` are injectable for tests."""

    name = "telegram"
    max_text = MAX_TEXT
    supports_images = True
    renders_markdown = True  # Outgoing.markdown is turned into the platform's own markup
    methods = ("POST",)  # what POST/GET /webhook/telegram accepts
    content_types = ("application/json",)
    enabled_by = "bot_token"  # the config key that turns the platform on without a chat listed

    def __init__(self, config: TelegramSection, http: aiohttp.ClientSession, *,
                 clock: Clock = time.time, sleep: Sleep = asyncio.sleep,
                 pacer: Pacer | None = None, attempts: int = 4):
        self._config, self._http, self._clock, self._sleep = config, http, clock, sleep
        self._username = config.bot_username.lstrip("@")
        # The token's numeric prefix is the bot's own user id (how replies to the bot are seen).
        self._bot_id = config.bot_token.partition(":")[0]
        self._pacer = pacer or Pacer([(1, 1.0), (20, 60.0)], clock=pacer_clock(clock), sleep=sleep)
        self._attempts = attempts
        self._admins: AdminCache[set[str]] = AdminCache(clock)  # each chat's administrators, kept briefly

    def __repr__(self) -> str:  # the config holds the token: keep it out of reprs
        return f"<TelegramAdapter @{self._username}>"

    # -- inbound -----------------------------------------------------------------------------

    def verify(self, request: Request) -> None:
        expected = self._config.secret_token
        if not expected:
            raise Rejected(403, "telegram webhook secret is not configured")
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise Rejected(403, "bad or missing secret token")

    def parse(self, request: Request) -> Parsed:
        update = json_object(request.body, "not a Telegram update (no update_id)")
        update_id = update.get("update_id")
        if not isinstance(update_id, int):
            raise Rejected(400, "not a Telegram update (no update_id)")
        delivery = str(update_id)
        message = update.get("message")
        edited = message is None and "message" not in update and "edited_message" in update
        reaction = update.get("message_reaction")
        if reaction is not None and isinstance(reaction, dict):
            try:
                reaction = self._reaction(reaction)
            except (KeyError, TypeError, ValueError, AttributeError, OverflowError, OSError) as exc:
                raise Rejected(400, f"malformed reaction: {exc.__class__.__name__} {exc}") from None
            return Parsed(reactions=(reaction,) if reaction else (), delivery_id=delivery)
        message = message or update.get("edited_message")
        if message is None:
            return Parsed(delivery_id=delivery)  # other update kinds: acknowledged, ignored
        try:
            incoming = self._incoming(message, edited)
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError, OSError) as exc:
            raise Rejected(400, f"malformed message: {exc.__class__.__name__} {exc}") from None
        if incoming is None:
            return Parsed(delivery_id=delivery)
        return Parsed(messages=(incoming,), delivery_id=delivery)

    def _incoming(self, message: dict, edited: bool) -> Incoming | None:
        chat = message["chat"]
        if chat.get("type") == "channel" or "from" not in message and not message.get("new_chat_members"):
            return None
        sender = _member(message["from"]) if "from" in message else Member("0", "unknown")
        text = message.get("text") or message.get("caption") or ""
        new_members = message.get("new_chat_members")
        joined = tuple(map(_member, new_members)) if new_members else ()
        if not text and not joined:
            return None  # stickers, service messages (title changes, pins, departures)
        entities = message.get("entities") or message.get("caption_entities")
        if entities:
            mentions, addressed = self._mentions(text, entities)
            command, args, by_name = self._command(text, entities)
            addressed = addressed or by_name
        else:  # most chatter: no mention, no command
            mentions, addressed, command, args = [], False, None, ""
        if chat.get("type") == "private":
            addressed = True
        reply_to = None
        if (parent := message.get("reply_to_message")) is not None:
            reply_to = str(parent["message_id"])
            author = parent.get("from") or {}
            if self._is_us(author):
                addressed = True
        thread = message.get("message_thread_id")
        return Incoming(  # positional, in the fields' order (every webhook builds one)
            self.name,  # platform
            str(chat["id"]),  # chat_id
            str(message["message_id"]),  # message_id
            sender,
            text,
            dt.datetime.fromtimestamp(int(message["date"]), dt.timezone.utc),  # time
            tuple(mentions),
            reply_to,
            str(thread) if thread is not None and message.get("is_topic_message") else None,  # thread_id
            command,
            args,
            addressed,
            edited,
            joined,
        )

    def _reaction(self, update: dict) -> Reaction | None:
        """`message_reaction`: the member's reactions before and after; anonymous ones are skipped."""
        if "user" not in update:
            return None  # reacted as a chat (anonymous admin): not a member's feedback

        def emoji(reactions: list) -> list[str]:
            return [str(r.get("emoji") or r.get("custom_emoji_id") or r.get("type")) for r in reactions or ()]

        old, new = emoji(update.get("old_reaction")), emoji(update.get("new_reaction"))
        return Reaction(platform=self.name, chat_id=str(update["chat"]["id"]), message_id=str(update["message_id"]),
                        member=_member(update["user"]),
                        time=dt.datetime.fromtimestamp(int(update["date"]), dt.timezone.utc),
                        added=tuple(e for e in new if e not in old), removed=tuple(e for e in old if e not in new))

    def _is_us(self, user: dict) -> bool:
        if self._bot_id and str(user.get("id")) == self._bot_id:
            return True
        return bool(self._username) and (user.get("username") or "").lower() == self._username.lower()

    def _mentions(self, text: str, entities: list) -> tuple[list[Member], bool]:
        found, addressed = [], False
        for entity in entities:
            kind = entity["type"]
            if kind == "mention":
                username = utf16_slice(text, entity["offset"], entity["length"]).lstrip("@")
                if self._username and username.lower() == self._username.lower():
                    addressed = True
                    continue
                found.append(Member("@" + username, username))
            elif kind == "text_mention":
                user = entity["user"]
                if self._is_us(user):
                    addressed = True
                    continue
                found.append(_member(user))
        return found, addressed

    def _command(self, text: str, entities: list) -> tuple[str | None, str, bool]:
        """The leading bot_command entity; only emoji, spaces or a mention of us may precede it."""
        for entity in entities:
            if entity["type"] != "bot_command":
                continue
            before = utf16_slice(text, 0, entity["offset"])
            if self._username:
                before = re.sub("@" + re.escape(self._username), "", before, flags=re.IGNORECASE)
            if any(ch.isalnum() for ch in before):
                return None, "", False
            rest = text.encode("utf-16-le")[2 * entity["offset"]:].decode("utf-16-le", errors="replace")
            return parse_command(rest, self._username)
        return None, "", False

    # -- outbound ----------------------------------------------------------------------------

    async def send(self, out: Outgoing) -> Sent:
        """sendMessage per part (split at 4096 UTF-16 units), then sendPhoto for an image."""
        runs = pack_mentions([(_mention_html(m), utf16_units(_mention_text(m))) for m in out.mentions],
                             MAX_TEXT // 2)
        prefix, prefix_size = runs.pop() if runs else ("", 0)
        parts = split_text(out.text, MAX_TEXT - prefix_size - 1, utf16_units) if out.text else []
        if prefix and len(parts) > 1:  # only the first part carries the mentions
            parts = parts[:1] + split_text(out.text[len(parts[0]):].lstrip("\n "), MAX_TEXT, utf16_units)
        bodies = [_as_html(part, out.markdown) for part in parts]
        if prefix:
            bodies[:1] = [f"{prefix} {bodies[0]}" if bodies else prefix]
        ids: list[str] = []
        for body in [run for run, _ in runs] + bodies:  # overflow mention runs go first, alone
            payload: dict = {"chat_id": out.chat_id, "text": body, "parse_mode": "HTML",
                             "link_preview_options": {"is_disabled": True}}
            self._thread_and_reply(payload, out, json_encoded=False)
            ids.append(await self._call_json("sendMessage", payload, out.chat_id))
        if out.image_png:
            ids.append(await self._send_photo(out))
        return Sent(tuple(ids))

    async def is_chat_admin(self, chat_id: str, user_id: str) -> bool:
        """Whether Telegram lists the member among the group's administrators (kept a few minutes)."""
        return user_id in await self._admins.get(chat_id, lambda: self.chat_admins(chat_id))

    async def chat_admins(self, chat_id: str) -> set[str]:
        """User ids of the group's administrators (getChatAdministrators): they may curate answers."""
        url = f"{self._config.api_base.rstrip('/')}/bot{self._config.bot_token}/getChatAdministrators"
        try:
            async with self._http.post(url, json={"chat_id": chat_id}) as response:
                answer = await response.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError, json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise SendFailed(self.name, f"getChatAdministrators: {exc.__class__.__name__}") from None
        if not isinstance(answer, dict) or not answer.get("ok") or not isinstance(answer.get("result"), list):
            raise SendFailed(self.name, "getChatAdministrators refused")
        return {str(member["user"]["id"]) for member in answer["result"]
                if isinstance(member, dict) and isinstance(member.get("user"), dict) and "id" in member["user"]}

    def _thread_and_reply(self, payload: dict, out: Outgoing, *, json_encoded: bool) -> None:
        if out.reply_to and out.reply_to.isdigit():  # ids from elsewhere (an archive line) are skipped
            reply = {"message_id": int(out.reply_to), "allow_sending_without_reply": True}
            payload["reply_parameters"] = json.dumps(reply) if json_encoded else reply
        if out.thread_id and out.thread_id.isdigit():
            payload["message_thread_id"] = str(out.thread_id) if json_encoded else int(out.thread_id)

    async def _send_photo(self, out: Outgoing) -> str:
        caption = split_text(out.image_caption, MAX_CAPTION, utf16_units)[:1] if out.image_caption else []

        def form() -> aiohttp.FormData:
            data = aiohttp.FormData()
            data.add_field("chat_id", out.chat_id)
            if caption:
                data.add_field("caption", caption[0])
            extra: dict = {}
            self._thread_and_reply(extra, out, json_encoded=True)
            for key, value in extra.items():
                data.add_field(key, value)
            data.add_field("photo", out.image_png, filename="chart.png", content_type="image/png")
            return data

        return await self._call("sendPhoto", out.chat_id, lambda: {"data": form()})

    async def _call_json(self, method: str, payload: dict, chat_id: str) -> str:
        return await self._call(method, chat_id, lambda: {"json": payload})

    async def _call(self, method: str, chat_id: str, body: Callable[[], dict]) -> str:
        if not self._config.bot_token:
            raise SendFailed(self.name, "bot_token is not configured")
        url = f"{self._config.api_base.rstrip('/')}/bot{self._config.bot_token}/{method}"

        def read(answer: Answer) -> str:
            body, status = answer.body, answer.status
            if body.get("ok") and status == 200:
                return str((body.get("result") or {}).get("message_id", ""))
            description = str(body.get("description", ""))[:200]
            if status == 429:
                retry_after = (body.get("parameters") or {}).get("retry_after")
                raise RetryLater(f"{method}: 429 {description}",
                                 float(retry_after) if retry_after is not None else None, status)
            if status >= 500:
                raise RetryLater(f"{method}: HTTP {status} {description}", None, status)
            raise SendFailed(self.name, f"{method}: HTTP {status} {description}", status)

        # the URL carries the token: `post` reports connection errors by class only
        return await post(self._http, url, body, read, platform=self.name, what=method, sleep=self._sleep,
                          attempts=self._attempts, pacer=self._pacer, pace_key=chat_id)


ADAPTER = TelegramAdapter  # what bot.platforms.adapter_classes() registers
