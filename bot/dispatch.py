"""From a stored incoming message to handler calls: bot filtering, routing, limits, isolation.

The dispatcher knows nothing of HTTP: the webhook hands it neutral `Incoming` messages, and the
scheduler builds the same `Context` (without a message) for its jobs. Handler errors are logged
(message ids only, never text or secrets) and never reach the server.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import logging
import re
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from bot.chat import Incoming, Member, MemberUpdate, Outgoing, Sent
from bot.config import ChatSection
from bot.router import Route, Router, combine
from bot.services import Services

log = logging.getLogger(__name__)

INLINE_ENGINE_SECONDS = 0.005

# Handler modules with routes, in routing order (job-only modules such as digest and publish are
# the scheduler's). The auto-answerer is the fallback and goes last so that
# command and observer modules see messages first.
HANDLER_MODULES = (
    "handlers.help",
    "handlers.search",
    "handlers.ask",
    "handlers.thread",
    "handlers.stats",
    "handlers.nicknames",
    "handlers.welcome",
    "handlers.admin",
    "handlers.autoanswer",
)


def load_routers(modules: Iterable[str] = HANDLER_MODULES) -> Router:
    """Import each handler module and combine their `router`s, in order."""
    return combine([importlib.import_module(name).router for name in modules])


_NOT_WORD = re.compile(r"[\W_]+")
CACHED_KEY_CHARS = 256  # longer questions are keyed without the cache: it must not hold big texts


@functools.lru_cache(maxsize=4096)  # a pure function; chat repeats itself
def _cached_key(text: str) -> str:
    return _NOT_WORD.sub("", text.casefold())


def question_key(text: str) -> str:
    """Text reduced to letters and digits, so 'A?' and 'a ！' count as the same question."""
    if len(text) > CACHED_KEY_CHARS:
        return _NOT_WORD.sub("", text.casefold())
    return _cached_key(text)


class Limits:
    """Per-chat reply rate limit (sliding minute) and per-chat question cool-down."""

    def __init__(self, replies_per_minute: int, cooldown_seconds: float) -> None:
        self.replies_per_minute = replies_per_minute
        self.cooldown_seconds = cooldown_seconds
        self._sent: dict[tuple[str, str], deque[float]] = {}
        self._answered: dict[tuple[str, str], dict[str, float]] = {}

    def allow_reply(self, chat: tuple[str, str], now: float) -> bool:
        """Count one reply for `chat` unless it already had `replies_per_minute` in 60 s."""
        window = self._sent.setdefault(chat, deque())
        while window and now - window[0] >= 60:
            window.popleft()
        if len(window) >= self.replies_per_minute:
            return False
        window.append(now)
        return True

    def first_time(self, chat: tuple[str, str], key: str, now: float) -> bool:
        """True (and remembered) unless `key` was answered in `chat` within the cool-down."""
        if not key:
            return True
        seen = self._answered.setdefault(chat, {})
        if len(seen) > 1000:  # forget expired keys now and then
            for old in [k for k, ts in seen.items() if now - ts >= self.cooldown_seconds]:
                del seen[old]
        last = seen.get(key)
        if last is not None and now - last < self.cooldown_seconds:
            return False
        seen[key] = now
        return True


INDEX_LOADING = "聊天记录的索引还在加载，请稍后再试。"


@dataclass
class Context:
    """What a handler gets: services, the message (None for scheduled jobs), its chat, `reply`."""

    services: Services
    chat: ChatSection
    message: Incoming | None
    dispatcher: Dispatcher
    sent: list[Outgoing] = field(default_factory=list)
    command_args: str | None = None  # set when the dispatcher found the command in the text
    update: MemberUpdate | None = None  # set for member-update routes (renames without a message)

    @property
    def args(self) -> str:
        if self.command_args is not None:
            return self.command_args.strip()
        return self.message.args.strip() if self.message else ""

    @property
    def group(self) -> str:
        return self.chat.group

    @property
    def chat_key(self) -> tuple[str, str]:
        return (self.chat.platform, self.chat.chat_id)

    async def words_for_engine(self, usage: str) -> str | None:
        """The command's words, once there are words and a loaded index to look them up in;
        otherwise None, after telling the member how to use it or that the index is loading."""
        if not self.args:
            await self.reply(usage)
            return None
        if self.services.answers is None:
            await self.reply(INDEX_LOADING)
            return None
        return self.args

    @property
    def markdown(self) -> bool:
        """Whether this chat's adapter renders the Markdown subset (bold names, clickable links)."""
        return getattr(self.services.adapters.get(self.chat.platform), "renders_markdown", False)

    @property
    def router(self) -> Router:
        return self.dispatcher.router

    def now_ts(self) -> float:
        clock = self.services.clock
        return clock().timestamp() if clock is not None else time.time()

    def chat_state(self) -> dict[str, Any]:
        """Per-chat scratch state (e.g. the last answer, for /thread), kept in services.extras."""
        chats = self.services.extras.setdefault("chat_state", {})
        return chats.setdefault(self.chat_key, {})

    async def engine(self, method: str, *args: Any) -> Any:
        """Call the answer engine (`ask`, `search`): inline while calls are quick, since a thread
        hop costs more than a millisecond of work under the GIL; in a worker thread while the
        calls' moving average exceeds `INLINE_ENGINE_SECONDS` (a large archive)."""
        call = getattr(self.services.answers, method)
        timing = self.dispatcher.engine_timing

        def timed() -> Any:
            started = time.perf_counter()
            try:
                return call(*args)
            finally:
                timing[0] = 0.9 * timing[0] + 0.1 * (time.perf_counter() - started)

        if timing[0] > INLINE_ENGINE_SECONDS:
            return await asyncio.to_thread(timed)
        return timed()

    def first_time(self, question: str) -> bool:
        """False when the same question was answered in this chat within the cool-down."""
        return self.dispatcher.limits.first_time(self.chat_key, question_key(question), self.now_ts())

    async def reply(self, text: str, mentions: Iterable[Member] = (), markdown: bool = False,
                    image_png: bytes | None = None, image_caption: str = "") -> Sent | None:
        """Answer the message (reply-to and thread kept); None when rate-limited or no adapter."""
        message = self.message
        return await self.send(
            text, mentions=mentions, markdown=markdown, image_png=image_png, image_caption=image_caption,
            reply_to=message.message_id if message else None,
            thread_id=message.thread_id if message else None)

    async def send(self, text: str, *, chat_id: str | None = None, mentions: Iterable[Member] = (),
                   markdown: bool = False, reply_to: str | None = None, thread_id: str | None = None,
                   image_png: bytes | None = None, image_caption: str = "") -> Sent | None:
        """Post to this chat (or `chat_id` on the same platform, e.g. an admin chat)."""
        adapter = self.services.adapters.get(self.chat.platform)
        if adapter is None:
            log.warning("no adapter for platform %s; reply dropped", self.chat.platform)
            return None
        target = chat_id or self.chat.chat_id
        if not self.dispatcher.limits.allow_reply((self.chat.platform, target), self.now_ts()):
            log.info("reply rate limit reached in %s:%s; reply dropped", self.chat.platform, target)
            return None
        outgoing = Outgoing(chat_id=target, text=text, mentions=tuple(mentions), reply_to=reply_to,
                            thread_id=thread_id, markdown=markdown, image_png=image_png,
                            image_caption=image_caption)
        self.sent.append(outgoing)
        return await adapter.send(outgoing)


class Dispatcher:
    """Routes messages to handlers and tracks the background tasks doing so."""

    def __init__(self, services: Services, router: Router | None = None) -> None:
        self.services = services
        self.router = router if router is not None else load_routers()
        config = services.config
        self.limits = Limits(config.server.replies_per_minute, config.answer.cooldown_seconds)
        self.tasks: set[asyncio.Task] = set()
        self.engine_timing = [0.0]  # moving average of engine call seconds (see Context.engine)
        self._chats = {(chat.platform, chat.chat_id): chat for chat in config.chats}
        self._self_ids = {value for value in (config.platforms.slack.bot_user_id,
                                              config.platforms.telegram.bot_username) if value}

    # -- background tasks -----------------------------------------------------------------------
    def spawn(self, message: Incoming | MemberUpdate) -> asyncio.Task:
        """Dispatch in a tracked task; shutdown waits for it (see `drain`)."""
        work = self.dispatch_update(message) if isinstance(message, MemberUpdate) else self.dispatch(message)
        task = asyncio.get_running_loop().create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def drain(self, timeout: float) -> int:
        """Wait up to `timeout` seconds for running dispatches; returns how many were cancelled."""
        pending = set(self.tasks)
        if not pending:
            return 0
        done, still = await asyncio.wait(pending, timeout=timeout)
        for task in still:
            task.cancel()
        if still:
            await asyncio.gather(*still, return_exceptions=True)
            log.warning("shutdown: %d dispatch task(s) cancelled after %.1fs", len(still), timeout)
        return len(still)

    # -- routing --------------------------------------------------------------------------------
    def chat_for(self, platform: str, chat_id: str) -> ChatSection | None:
        """The configured chat (a dict lookup: deployments may list many chats)."""
        return self._chats.get((platform, chat_id))

    def is_from_bot(self, message: Incoming) -> bool:
        sender = message.sender
        return sender.is_bot or sender.id in self._self_ids or sender.name in self._self_ids

    def context(self, chat: ChatSection, message: Incoming | None = None) -> Context:
        return Context(self.services, chat, message, self)

    async def dispatch(self, message: Incoming) -> list[Outgoing]:
        """Run the routes for one message; returns what was sent (tests look at it)."""
        chat = self.chat_for(message.platform, message.chat_id)
        if chat is None or self.is_from_bot(message) or message.edited:
            return []
        ctx = self.context(chat, message)
        for route in self.router.of_kind("observe"):
            await self._run(route, ctx)
        if message.joined:
            for route in self.router.of_kind("join"):
                await self._run(route, ctx)
        command, args = message.command, None
        if not command:
            command, args = self._command_in_text(message.text)
            ctx.command_args = args
        if command:
            route = self.router.find_command(command)
            if route is not None:
                await self._run(route, ctx)
            else:
                log.debug("unknown command /%s in %s:%s", command, chat.platform, chat.chat_id)
        elif message.text.strip():
            for route in self.router.of_kind("fallback"):
                await self._run(route, ctx)
        return ctx.sent

    async def dispatch_update(self, update: MemberUpdate) -> list[Outgoing]:
        """Run the member-update routes for one rename (the bot's own renames are ignored)."""
        chat = self.chat_for(update.platform, update.chat_id)
        member = update.member
        if chat is None or member.is_bot or member.id in self._self_ids or member.name in self._self_ids:
            return []
        ctx = self.context(chat)
        ctx.update = update
        for route in self.router.of_kind("member_update"):
            await self._run(route, ctx)
        return ctx.sent

    def _command_in_text(self, text: str) -> tuple[str | None, str | None]:
        """`/搜索 词`: platforms only mark ASCII commands, so known names are also found in text."""
        match = _TEXT_COMMAND.match(text)
        if not match or self.router.find_command(match.group(1)) is None:
            return None, None
        target = match.group(2)
        if target and target.lower() not in {name.lower() for name in self._self_ids}:
            return None, None  # "/search@OtherBot"
        return match.group(1).lower(), match.group(3)

    async def _run(self, route: Route, ctx: Context) -> None:
        try:
            await route.handler(ctx)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - one handler's bug must not stop the bot
            message = ctx.message
            log.error("handler %s failed on %s:%s message %s: %s: %s", route.label, ctx.chat.platform,
                      ctx.chat.chat_id, message.message_id if message else "-", type(exc).__name__,
                      _safe(str(exc)), exc_info=log.isEnabledFor(logging.DEBUG))


_TEXT_COMMAND = re.compile(r"^\s*/([^\s@/]+)(?:@(\S+))?(?:\s+(.*))?$", re.S)


def _safe(text: str, limit: int = 200) -> str:
    """Error texts can quote URLs carrying tokens (Telegram's /bot<token>/): mask them."""
    text = re.sub(r"bot\d+:[\w-]+", "bot<token>", text)
    text = re.sub(r"key=[\w-]+", "key=<key>", text)
    return text[:limit]
