"""From a stored incoming message to handler calls: bot filtering, routing, limits, isolation.

The dispatcher knows nothing of HTTP: the webhook hands it neutral `Incoming` messages, and the
scheduler builds the same `Context` (bot/context.py, without a message) for its jobs. The routes
come from the handler modules the config names (`bot.handlers`, see bot/router.py). Handler
errors are logged (message ids only, never text or secrets) and never reach the server.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

from bot import metrics
from bot.answer_writes import AnswerWrites
from bot.chat import Incoming, MemberUpdate, Outgoing, Reaction
from bot.config import ChatSection, Config
from bot.context import INDEX_LOADING, Context, question_key  # noqa: F401 - handlers import them here too
from bot.router import Route, Router, load_handlers, load_routers  # noqa: F401 - tests load chosen modules
from bot.services import Services
from bot.store.shared import Claimed, Limits  # noqa: F401 - shared by every web process (tests import it here)

log = logging.getLogger(__name__)


def engine_threads(config: Config) -> int:
    """How many answer-engine calls run at once: `server.engine_threads` when set; else one per core
    (at most 8) with a sentence encoder, whose encoding is C that leaves the interpreter to the
    others (20 questions at once on 2 cores: p50 373 -> 182 ms, p99 796-946 -> 460 ms against one
    thread), and one without, since lexical scoring is Python under the GIL: more threads answer no
    faster and the event loop, acknowledging webhooks, waits for the GIL behind them."""
    if config.server.engine_threads is not None:
        return config.server.engine_threads
    return min(os.cpu_count() or 1, 8) if config.encoder.kind != "none" else 1


class Dispatcher:
    """Routes messages to handlers and tracks the background tasks doing so."""

    def __init__(self, services: Services, router: Router | None = None) -> None:
        self.services = services
        self.router = router if router is not None else load_handlers(services.config)
        config = services.config
        self.limits = Limits(services.db, config.server.replies_per_minute, config.answer.cooldown_seconds)
        self.writes = AnswerWrites(services.db)  # answering's writes, committed in groups (Context.write)
        self.on_handled: Callable[[tuple[str, str, str]], None] | None = None  # the inbox's `finished`
        self.tasks: set[asyncio.Task] = set()
        self.engine_timing = [0.0]  # moving average of engine call seconds (see Context.engine)
        # The answer engine's own threads (see Context.engine and `engine_threads`); store calls keep
        # the default pool, never queued behind engine work.
        self.engine_pool = ThreadPoolExecutor(engine_threads(config), thread_name_prefix="answer-engine")
        self._chats = {(chat.platform, chat.chat_id): chat for chat in config.chats}
        self._self_ids = {value for value in (config.platforms.slack.bot_user_id,
                                              config.platforms.telegram.bot_username) if value}

    # -- background tasks -----------------------------------------------------------------------
    def spawn(self, message: Incoming | MemberUpdate | Reaction, resumed: bool = False,
              received: float | None = None) -> asyncio.Task | None:
        """Dispatch now, up to the first wait; the rest goes on in a tracked task that shutdown
        waits for (see `drain`). Returns that task, or None when the dispatch already finished.

        Most chatter is handled without waiting for anything (every observer and the fallback
        return at once), and a task per message (creation, scheduling, its context) cost about
        as much as the handling itself; as Python 3.12's eager tasks, only what waits gets one."""
        if isinstance(message, MemberUpdate):
            work = self.dispatch_update(message)
        elif isinstance(message, Reaction):
            work = self.dispatch_reaction(message)
        else:
            work = self.handle(message, resumed, received)
        try:
            waiting_for = work.send(None)
        except StopIteration:
            return None
        except Exception as exc:  # noqa: BLE001 - as a task's error: logged, never the webhook's 500
            log.error("dispatch failed: %s: %s", type(exc).__name__, _safe(str(exc)))
            return None
        task = asyncio.get_running_loop().create_task(_go_on(work, waiting_for))
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

    def close(self) -> None:
        """Let the engine threads go (an engine call still running finishes on its own)."""
        self.engine_pool.shutdown(wait=False, cancel_futures=True)
        self.writes.close()

    # -- routing --------------------------------------------------------------------------------
    def chat_for(self, platform: str, chat_id: str) -> ChatSection | None:
        """The configured chat (a dict lookup: deployments may list many chats)."""
        return self._chats.get((platform, chat_id))

    def is_from_bot(self, message: Incoming) -> bool:
        sender = message.sender
        return sender.is_bot or sender.id in self._self_ids or sender.name in self._self_ids

    def context(self, chat: ChatSection, message: Incoming | None = None) -> Context:
        return Context(self.services, chat, message, self)

    async def handle(self, message: Incoming, resumed: bool = False, received: float | None = None) -> list[Outgoing]:
        """Dispatch a stored message, then let its pending row go (it was handled); a handling
        cut short by shutdown keeps the row, so the next start handles it again."""
        sent = await self.dispatch(message, resumed, received)
        if self.on_handled is not None:
            self.on_handled((message.platform, message.chat_id, message.message_id))
        return sent

    def resume(self, claimed: Iterable[Claimed]) -> int:
        """Handle again what a crashed process had acknowledged but not handled, each message aged
        from when it was received (its unprompted answer may be too late by now, see Context.too_late)."""
        count = 0
        for message, received in claimed:
            self.spawn(message, resumed=True, received=received)
            count += 1
        if count:
            log.warning("resuming %d acknowledged message(s) left unhandled by a previous run", count)
        return count

    async def dispatch(self, message: Incoming, resumed: bool = False,
                       received: float | None = None) -> list[Outgoing]:
        """Run the routes for one message; returns what was sent (tests look at it). `received`:
        when an earlier run received it (a resumed message); else now."""
        started = time.perf_counter()
        try:
            return await self._dispatch(message, resumed, received)
        finally:
            metrics.HANDLING.observe(time.perf_counter() - started, message.platform)

    async def _dispatch(self, message: Incoming, resumed: bool, received: float | None) -> list[Outgoing]:
        chat = self.chat_for(message.platform, message.chat_id)
        if chat is None or self.is_from_bot(message) or message.edited:
            return []
        ctx = self.context(chat, message)
        ctx.resumed = resumed
        ctx.received = ctx.now_ts() if received is None else received
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

    async def dispatch_reaction(self, reaction: Reaction) -> list[Outgoing]:
        """Run the reaction routes for one reaction (the bot's own are ignored)."""
        chat = self.chat_for(reaction.platform, reaction.chat_id)
        member = reaction.member
        if chat is None or member.is_bot or member.id in self._self_ids or member.name in self._self_ids:
            return []
        ctx = self.context(chat)
        ctx.reaction = reaction
        for route in self.router.of_kind("reaction"):
            await self._run(route, ctx)
        return ctx.sent

    def _command_in_text(self, text: str) -> tuple[str | None, str | None]:
        """`/搜索 词`: platforms only mark ASCII commands, so known names are also found in text."""
        if "/" not in text:  # most chatter: no regular expression to run
            return None, None
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


class _GoOn:
    """Awaiting it continues `coro`, which has already run up to yielding `waiting_for` (a future
    or None, as `await` passes them up to the task): the task waits for it, then the coroutine
    gets the result, or the exception (a cancellation) thrown in."""

    def __init__(self, coro, waiting_for) -> None:
        self.coro, self.waiting_for = coro, waiting_for

    def __await__(self):
        coro, waiting_for = self.coro, self.waiting_for
        while True:
            try:
                sent = yield waiting_for
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:  # noqa: BLE001 - thrown in by the task (cancellation): passed on
                step = coro.throw
                value = exc
            else:
                step, value = coro.send, sent
            try:
                waiting_for = step(value)
            except StopIteration as stop:
                return stop.value


async def _go_on(coro, waiting_for):
    return await _GoOn(coro, waiting_for)


_TEXT_COMMAND = re.compile(r"^\s*/([^\s@/]+)(?:@(\S+))?(?:\s+(.*))?$", re.S)


def _safe(text: str, limit: int = 200) -> str:
    """Error texts can quote URLs carrying tokens (Telegram's /bot<token>/): mask them."""
    text = re.sub(r"bot\d+:[\w-]+", "bot<token>", text)
    text = re.sub(r"key=[\w-]+", "key=<key>", text)
    return text[:limit]
