"""Slack adapter: Events API (and slash-command posts) in, chat.postMessage and file uploads out.

Verification is Slack's v0 scheme: "v0=" + hex HMAC-SHA256(signing secret,
"v0:{X-Slack-Request-Timestamp}:{raw body}"), compared in constant time, and the timestamp must
be within 300 seconds of the injected clock. `url_verification` is answered with its challenge.

Parsing: `message` events (plain, `thread_broadcast`, `file_share`; `message_changed` as an edit;
`bot_message` and anything carrying `bot_id` marked is_bot), `app_mention` (addressed), and
`member_joined_channel` (a join). A mention arrives twice (message + app_mention) with the same
`ts`; both map to message_id = ts, so the store's unique key keeps one. `event_id` is the
delivery id, so X-Slack-Retry-Num re-deliveries are recognised. A leading "/search" in a channel
message is a command (Slack's own slash commands, posted form-encoded, are accepted too).

Sending: one chat.postMessage per part; parts are cut at 4,000 characters (Slack's recommended
size; it truncates at 40,000). `reply_to`/`thread_id` become `thread_ts`. 429 honours Retry-After.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import re
import time
from urllib.parse import parse_qs

import aiohttp

from bot.chat import Incoming, Member, Outgoing, Reaction, Sent
from bot.config import SlackSection
from bot.platforms.admins import AdminCache
from bot.platforms.base import Parsed, Rejected, Request, json_object
from bot.platforms.pacing import Answer, Clock, Pacer, RetryLater, SendFailed, Sleep, pacer_clock, post
from bot.platforms.text import convert_markdown, pack_mentions, parse_command, split_text

MAX_TEXT = 4000
WINDOW_SECONDS = 300
_USER = re.compile(r"<@([UW][A-Z0-9]+)(?:\|([^>]*))?>")
_LINKISH = re.compile(r"<([^<>|]+)(?:\|([^<>]*))?>")
_MESSAGE_SUBTYPES = {None, "thread_broadcast", "file_share", "bot_message", "me_message"}


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The X-Slack-Signature value for `body` sent at `timestamp`."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def escape(text: str) -> str:
    """Slack's three control characters; everything else is literal."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def plain_text(text: str) -> str:
    """Slack markup to what a person sees: <@U1|ann> → @ann, <url|label> → label, &lt; → <."""
    def link(match: re.Match) -> str:
        target, label = match.group(1), match.group(2)
        if target.startswith("@"):
            return "@" + (label or target[1:])
        if target.startswith("#"):
            return "#" + (label or target[1:])
        if target.startswith("!"):
            return "@" + (label or target[1:].split("^")[0])
        return label or target
    return _LINKISH.sub(link, text).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _time(ts: str) -> dt.datetime:
    return dt.datetime.fromtimestamp(float(ts), dt.timezone.utc)


class SlackAdapter:
    """One Slack app installed in one workspace."""

    name = "slack"
    max_text = MAX_TEXT
    supports_images = True
    renders_markdown = True  # Outgoing.markdown is turned into the platform's own markup
    methods = ("POST",)
    content_types = ("application/json", "application/x-www-form-urlencoded")  # events, slash commands
    enabled_by = "signing_secret"

    def __init__(self, config: SlackSection, http: aiohttp.ClientSession, *,
                 clock: Clock = time.time, sleep: Sleep = asyncio.sleep,
                 pacer: Pacer | None = None, attempts: int = 4):
        self._config, self._http, self._clock, self._sleep = config, http, clock, sleep
        # chat.postMessage allows about one message a second per channel
        self._pacer = pacer or Pacer([(1, 1.0)], clock=pacer_clock(clock), sleep=sleep)
        self._attempts = attempts
        self._admins: AdminCache[bool] = AdminCache(clock)  # members' workspace roles, kept briefly

    def __repr__(self) -> str:
        return f"<SlackAdapter bot={self._config.bot_user_id or '?'}>"

    # -- inbound -----------------------------------------------------------------------------

    def verify(self, request: Request) -> None:
        secret = self._config.signing_secret
        if not secret:
            raise Rejected(401, "slack signing secret is not configured")
        timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
        given = request.headers.get("X-Slack-Signature", "")
        if not timestamp or not given:
            raise Rejected(401, "missing Slack signature headers")
        try:
            sent_at = int(timestamp)
        except ValueError:
            raise Rejected(401, "bad Slack timestamp") from None
        if abs(self._clock() - sent_at) > WINDOW_SECONDS:
            raise Rejected(401, "stale Slack request")
        if not hmac.compare_digest(given.encode(), sign(secret, timestamp, request.body).encode()):
            raise Rejected(401, "bad Slack signature")

    def parse(self, request: Request) -> Parsed:
        ctype = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if ctype == "application/x-www-form-urlencoded":
            return self._slash_command(request.body)
        envelope = json_object(request.body, "not a Slack event envelope")
        kind = envelope.get("type")
        if kind == "url_verification":
            challenge = envelope.get("challenge")
            if not isinstance(challenge, str) or len(challenge) > 256:
                raise Rejected(400, "url_verification without a challenge of at most 256 characters")
            return Parsed(response_body=challenge.encode("utf-8", "replace"), response_type="text/plain")
        if kind != "event_callback":
            return Parsed()  # app_rate_limited and future envelope kinds: acknowledge
        event, delivery = envelope.get("event"), envelope.get("event_id")
        if not isinstance(event, dict) or not isinstance(delivery, str):
            raise Rejected(400, "event_callback without event or event_id")
        extra = {"retry": int(request.headers.get("X-Slack-Retry-Num", "0") or 0)}
        if event.get("type") in ("reaction_added", "reaction_removed"):
            try:
                reaction = self._reaction(event)
            except (KeyError, TypeError, ValueError, AttributeError, OverflowError, OSError) as exc:
                raise Rejected(400, f"malformed event: {exc.__class__.__name__} {exc}") from None
            return Parsed(reactions=(reaction,) if reaction else (), delivery_id=delivery, extra=extra)
        try:
            incoming = self._event(event, delivery)
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError, OSError) as exc:
            raise Rejected(400, f"malformed event: {exc.__class__.__name__} {exc}") from None
        return Parsed(messages=(incoming,) if incoming else (), delivery_id=delivery, extra=extra)

    def _event(self, event: dict, delivery: str) -> Incoming | None:
        kind = event.get("type")
        if kind == "member_joined_channel":
            user = str(event["user"])
            return Incoming(platform=self.name, chat_id=str(event["channel"]), message_id=f"join-{delivery}",
                            sender=Member(user, user), text="", time=_time(event.get("event_ts") or self._clock()),
                            joined=(Member(user, user),))
        if kind not in ("message", "app_mention"):
            return None
        edited = False
        if event.get("subtype") == "message_changed":
            edited, inner = True, event["message"]
            event = {**inner, "channel": event["channel"], "channel_type": event.get("channel_type")}
        elif event.get("subtype") not in _MESSAGE_SUBTYPES:
            return None  # joins/leaves as messages, deletions, topic changes...
        raw = event.get("text") or ""
        is_bot = "bot_id" in event or event.get("subtype") == "bot_message"
        user = str(event.get("user") or event.get("bot_id") or "")
        if not user:
            raise ValueError("message without user")
        sender = Member(user, str(event.get("username") or (event.get("user_profile") or {}).get("display_name")
                                  or user), is_bot)
        ours = self._config.bot_user_id
        mentions, addressed = [], kind == "app_mention" or event.get("channel_type") == "im"
        for match in _USER.finditer(raw):
            if ours and match.group(1) == ours:
                addressed = True
            else:
                mentions.append(Member(match.group(1), match.group(2) or match.group(1)))
        command_text = _USER.sub("", raw, count=1) if ours and raw.lstrip().startswith(f"<@{ours}") else raw
        command, args, _ = parse_command(plain_text(command_text))
        thread = event.get("thread_ts")
        ts = str(event["ts"])
        return Incoming(
            platform=self.name, chat_id=str(event["channel"]), message_id=ts, sender=sender,
            text=plain_text(raw), time=_time(ts), mentions=tuple(mentions),
            reply_to=thread if thread and thread != ts else None, thread_id=thread,
            command=command, args=args, addressed=addressed, edited=edited,
        )

    def _reaction(self, event: dict) -> Reaction | None:
        """`reaction_added` / `reaction_removed` on a message (reactions on files are skipped)."""
        item = event.get("item")
        if not isinstance(item, dict) or item.get("type") != "message":
            return None
        name = str(event["reaction"])
        added = event["type"] == "reaction_added"
        user = str(event["user"])
        return Reaction(platform=self.name, chat_id=str(item["channel"]), message_id=str(item["ts"]),
                        member=Member(user, user), time=_time(event.get("event_ts") or self._clock()),
                        added=(name,) if added else (), removed=() if added else (name,))

    def _slash_command(self, body: bytes) -> Parsed:
        try:
            form = {key: values[0] for key, values in parse_qs(body.decode("utf-8"), strict_parsing=True).items()}
        except (UnicodeDecodeError, ValueError):
            raise Rejected(400, "slash command body is not a form") from None
        missing = [key for key in ("command", "user_id", "channel_id", "trigger_id") if not form.get(key)]
        if missing:
            raise Rejected(400, f"slash command without {', '.join(missing)}")
        command, args, _ = parse_command(f"{form['command']} {form.get('text', '')}")
        if command is None:
            raise Rejected(400, "bad slash command name")
        message = Incoming(
            platform=self.name, chat_id=form["channel_id"], message_id=f"slash-{form['trigger_id']}",
            sender=Member(form["user_id"], form.get("user_name") or form["user_id"]),
            text=f"{form['command']} {form.get('text', '')}".strip(),
            time=dt.datetime.fromtimestamp(self._clock(), dt.timezone.utc),
            command=command, args=args, addressed=True)
        return Parsed(messages=(message,), delivery_id=form["trigger_id"])

    # -- outbound ----------------------------------------------------------------------------

    async def send(self, out: Outgoing) -> Sent:
        runs = pack_mentions([(f"<@{m.id}>", len(m.id) + 3) for m in out.mentions], MAX_TEXT // 2)
        prefix, prefix_size = runs.pop() if runs else ("", 0)
        thread = out.thread_id or out.reply_to
        bodies = []
        for part in split_text(out.text, MAX_TEXT - prefix_size - 1) if out.text else []:
            if out.markdown:
                bodies.append(convert_markdown(part, bold="*{0}*", code="`{0}`", link="<{url}|{label}>",
                                               escape=escape))
            else:
                bodies.append(escape(part))
        if prefix:
            bodies[:1] = [f"{prefix} {bodies[0]}" if bodies else prefix]
        ids: list[str] = []
        for body in [run for run, _ in runs] + bodies:  # overflow mention runs go first, alone
            payload: dict = {"channel": out.chat_id, "text": body, "unfurl_links": False}
            if thread:
                payload["thread_ts"] = thread
            answer = await self._api("chat.postMessage", out.chat_id, json_body=payload)
            ids.append(str(answer.get("ts", "")))
        if out.image_png:
            ids.append(await self._upload(out, thread))
        return Sent(tuple(ids))

    async def is_chat_admin(self, chat_id: str, user_id: str) -> bool:
        """Whether Slack says the member is a workspace admin or owner (users.info, `users:read`
        scope). Slack has no channel admins: the workspace's admins and owners run its channels."""
        return await self._admins.get(user_id, lambda: self._workspace_admin(user_id))

    async def _workspace_admin(self, user_id: str) -> bool:
        try:
            answer = await self._api("users.info", user_id, form={"user": user_id}, pace=False)
        except SendFailed as exc:
            if exc.reason.endswith(": user_not_found"):
                return False  # not a member Slack knows: certainly no admin
            raise
        user = answer.get("user")
        return isinstance(user, dict) and any(user.get(role) is True for role in ("is_admin", "is_owner",
                                                                                  "is_primary_owner"))

    async def _upload(self, out: Outgoing, thread: str | None) -> str:
        """files.getUploadURLExternal → POST the bytes → files.completeUploadExternal."""
        ticket = await self._api("files.getUploadURLExternal", out.chat_id,
                                 form={"filename": "chart.png", "length": str(len(out.image_png or b""))})
        upload_url, file_id = ticket.get("upload_url"), ticket.get("file_id")
        if not upload_url or not file_id:
            raise SendFailed(self.name, "files.getUploadURLExternal answered without upload_url")

        def form() -> dict:
            data = aiohttp.FormData()
            data.add_field("file", out.image_png, filename="chart.png", content_type="image/png")
            return {"data": data}

        def uploaded(answer: Answer) -> None:
            if answer.status >= 500 or answer.status == 429:
                raise RetryLater(f"file upload: HTTP {answer.status}", answer.retry_after, answer.status)
            if answer.status != 200:
                raise SendFailed(self.name, f"file upload: HTTP {answer.status}", answer.status)

        await post(self._http, upload_url, form, uploaded, platform=self.name, what="file upload",
                   sleep=self._sleep, attempts=self._attempts)
        complete: dict = {"files": [{"id": file_id, "title": out.image_caption or "chart"}],
                          "channel_id": out.chat_id}
        if out.image_caption:
            complete["initial_comment"] = out.image_caption
        if thread:
            complete["thread_ts"] = thread
        await self._api("files.completeUploadExternal", out.chat_id, json_body=complete, pace=False)
        return file_id

    async def _api(self, method: str, channel: str, *, json_body: dict | None = None,
                   form: dict | None = None, pace: bool = True) -> dict:
        if not self._config.bot_token:
            raise SendFailed(self.name, "bot_token is not configured")
        url = f"{self._config.api_base.rstrip('/')}/{method}"
        headers = {"Authorization": f"Bearer {self._config.bot_token}"}

        def request() -> dict:
            return {"headers": headers, **({"json": json_body} if json_body is not None else {"data": form})}

        def read(answer: Answer) -> dict:
            if answer.status == 429:
                raise RetryLater(f"{method}: rate limited", answer.retry_after, answer.status)
            if answer.status >= 500:
                raise RetryLater(f"{method}: HTTP {answer.status}", None, answer.status)
            if not answer.body.get("ok"):
                raise SendFailed(self.name, f"{method}: {answer.body.get('error', f'HTTP {answer.status}')}",
                                 answer.status)
            return answer.body

        return await post(self._http, url, request, read, platform=self.name, what=method, sleep=self._sleep,
                          attempts=self._attempts, pacer=self._pacer if pace else None, pace_key=channel)


ADAPTER = SlackAdapter  # what bot.platforms.adapter_classes() registers
