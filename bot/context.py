"""The one context every handler gets: for a message (a command, an observer) and for a job.

A message context carries the chat, the message and `reply`; a job context carries the job id,
the time it runs for and `post_once`, the ledger-protected send (bot/store/ledger.py). Both hold the
Services, so handlers need no globals. The dispatcher builds message contexts
(bot/dispatch.py), the scheduler's trampoline job contexts (bot/scheduler.py); an admin command
runs a job through the same trampoline (`run_job`), with `only_chat` set.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError

from bot import metrics
from bot.chat import Incoming, Member, MemberUpdate, Outgoing, Reaction, Sent
from bot.store import shared
from bot.config import ChatSection, Config
from bot.services import Services
from bot.store import ledger

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from bot.dispatch import Dispatcher
    from bot.router import Router

log = logging.getLogger(__name__)

INLINE_ENGINE_SECONDS = 0.005
INDEX_LOADING = "聊天记录的索引还在加载，请稍后再试。"


_NOT_WORD = re.compile(r"[\W_]+")
CACHED_KEY_CHARS = 256  # longer questions are keyed without the cache: it must not hold big texts


@lru_cache(maxsize=4096)  # a pure function; chat repeats itself
def _cached_key(text: str) -> str:
    return _NOT_WORD.sub("", text.casefold())


def question_key(text: str) -> str:
    """Text reduced to letters and digits, so 'A?' and 'a ！' count as the same question."""
    if len(text) > CACHED_KEY_CHARS:
        return _NOT_WORD.sub("", text.casefold())
    return _cached_key(text)




async def deliver(adapter, outgoing: Outgoing) -> Sent:
    """`adapter.send`, counted by outcome for /metrics."""
    try:
        sent = await adapter.send(outgoing)
    except Exception:
        metrics.SENDS.labels(adapter.name, "failed").inc()
        raise
    metrics.SENDS.labels(adapter.name, "ok").inc()
    return sent


class _ClockTime:
    """`Context.now`: a job's time is given; a message's is read from the Services clock the
    first time a handler asks, since most chatter is handled without asking (and reading the clock
    was a tenth of dispatching a message)."""

    def __get__(self, ctx: Context | None, owner: type | None = None) -> dt.datetime | None:
        if ctx is None:
            return None  # the dataclass field's default
        now = ctx.__dict__["_now"]
        if now is None:
            now = ctx.__dict__["_now"] = ctx.services.now()
        return now

    def __set__(self, ctx: Context, value: dt.datetime | None) -> None:
        ctx.__dict__["_now"] = value


@dataclass
class Context:
    """What a handler gets. `message` is None for jobs and member updates; `chat` is None for a
    job, which walks `chats` (every configured chat, or `only_chat` when an admin asked)."""

    services: Services
    chat: ChatSection | None = None
    message: Incoming | None = None
    dispatcher: Dispatcher | None = None
    job_id: str = ""
    now: dt.datetime | None = _ClockTime()  # type: ignore[assignment]  # a job's time, else the Services' clock
    only_chat: ChatSection | None = None  # an admin's run for one chat
    manual: bool = False  # run by an admin command rather than the schedule
    resumed: bool = False  # handled again after a crash: replies that already went out are skipped
    received: float | None = None  # when the bot received the message (`now_ts` clock; see `age`)
    replies_made: int = 0  # position of the next reply (its key: message + position)
    sent: list[Outgoing] = field(default_factory=list)  # replies of a message context
    posted: list[Outgoing] = field(default_factory=list)  # what a job delivered (tests, CLI)
    failures: list[str] = field(default_factory=list)  # "chat: reason" of a job's failed sends
    results: dict[tuple[str, str], Any] = field(default_factory=dict)  # a job's outcome per chat
    command_args: str | None = None  # set when the dispatcher found the command in the text
    update: MemberUpdate | None = None  # set for member-update routes (renames without a message)
    reaction: Reaction | None = None  # set for reaction routes

    # -- what both kinds know ---------------------------------------------------------------------
    @property
    def config(self) -> Config:
        return self.services.config

    @property
    def today(self) -> dt.date:
        return self.now.astimezone(self.services.zone).date()

    @property
    def chats(self) -> list[ChatSection]:
        """The chats a job works on."""
        return [self.only_chat] if self.only_chat is not None else list(self.config.chats)

    async def db(self, fn: Callable, /, *args, **kwargs):
        """Run a sync store call off the event loop (a write may wait for SQLite's lock, held by
        the inbox writer or another process, and must not stall the webhooks meanwhile)."""
        return await asyncio.to_thread(fn, *args, **kwargs)

    async def write(self, fn: Callable, /, *args):
        """`fn(conn, *args)` in the dispatcher's group commit (bot/answer_writes.py): answering's
        writes share transactions and thread wake-ups instead of paying for one each."""
        return await self.dispatcher.writes.run(fn, *args)

    def now_ts(self) -> float:
        clock = self.services.clock
        return clock().timestamp() if clock is not None else time.time()

    def age(self) -> float:
        """Seconds since the bot received the message: by its own clock, never the platform's
        timestamp (a sender's client or a bridge may set that to anything)."""
        return 0.0 if self.received is None else self.now_ts() - self.received

    def too_late(self) -> bool:
        """Is the message older than `answer.deadline_seconds`? An unprompted answer that arrives
        after the conversation moved on is noise in a busy group (bursts, a restart's backlog)."""
        deadline = self.config.answer.deadline_seconds
        return deadline > 0 and self.age() > deadline

    # -- a message's chat ---------------------------------------------------------------------------
    @property
    def args(self) -> str:
        if self.command_args is not None:
            return self.command_args.strip()
        return self.message.args.strip() if self.message else ""

    @property
    def group(self) -> str:
        return self.chat.group

    @property
    def answer_groups(self) -> list[str]:
        """The archive groups this chat's answers come from (`chats[].answer_from`, else its own)."""
        return list(self.chat.answer_from) or [self.chat.group]

    @property
    def chat_key(self) -> tuple[str, str]:
        return (self.chat.platform, self.chat.chat_id)

    @property
    def markdown(self) -> bool:
        """Whether this chat's adapter renders the Markdown subset (bold names, clickable links)."""
        return getattr(self.services.adapters.get(self.chat.platform), "renders_markdown", False)

    @property
    def router(self) -> Router:
        return self.dispatcher.router

    async def remember_answer(self, pair: Any) -> None:
        """Keep the archived exchange behind the last answer in this chat, for /thread (in the
        store, so the next message may reach another web process)."""
        self.services.last_answers[self.chat_key] = pair
        await self.write(shared.set_state_in, self.chat_key, "last_answer", pair.unit_id)

    async def last_answer(self) -> Any:
        await self.services.erasures.catch_up_async(self.services)  # see `engine`
        wanted = await self.db(shared.get_state, self.services.db, self.chat_key, "last_answer")
        if wanted is None:
            return None
        known = self.services.last_answers.get(self.chat_key)
        if known is not None and known.unit_id == wanted:
            return known
        engine = self.services.answers  # another process answered: the unit by its id (any kind)
        return engine.unit(wanted) if engine is not None and isinstance(wanted, str) else None

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

    async def engine(self, method: str, *args: Any) -> Any:
        """Call the answer engine (`ask`, `search`): inline while calls are quick, since a thread
        hop costs more than a millisecond of work under the GIL; in a worker thread while the
        calls' moving average exceeds `INLINE_ENGINE_SECONDS` (a large archive) or when the engine
        encodes questions with a sentence encoder (milliseconds of C that must not hold the loop)."""
        services = self.services
        timing = self.dispatcher.engine_timing

        def timed() -> Any:
            call = getattr(services.answers, method)
            started = time.perf_counter()
            try:
                return call(*args)
            finally:
                timing[0] = 0.9 * timing[0] + 0.1 * (time.perf_counter() - started)

        def caught_up() -> Any:
            # Nothing the engine says may quote words another process erased since it last looked
            # (bot/erasure_watch.py). Checked where the engine is read, not per message (a store
            # round trip for every line of chatter would cost the webhook more than the rest), and
            # in the engine's thread: one hop for both.
            services.erasures.catch_up(services)
            return timed()

        if timing[0] > INLINE_ENGINE_SECONDS or getattr(services.answers, "encoder", None) is not None:
            return await asyncio.get_running_loop().run_in_executor(self.dispatcher.engine_pool, caught_up)
        await services.erasures.catch_up_async(services)
        return timed()

    async def first_time(self, question: str) -> bool:
        """False when the same question was answered in this chat within the cool-down."""
        return await self.write(self.dispatcher.limits.first_time_in, self.chat_key, question_key(question),
                                self.now_ts())

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
        limits = self.dispatcher.limits
        reply_key = None
        if self.message is not None:
            m = self.message
            reply_key = f"{m.platform}:{m.chat_id}:{m.message_id}:{self.replies_made}"
            self.replies_made += 1
            if self.resumed and await self.db(limits.already_sent, reply_key):
                log.info("resumed %s:%s message %s: reply %d went out before; skipped", m.platform, m.chat_id,
                         m.message_id, self.replies_made - 1)
                return None
        slot = await self.write(limits.reserve_reply_in, (self.chat.platform, target), self.now_ts())
        if slot is None:
            log.info("reply rate limit reached in %s:%s; reply dropped", self.chat.platform, target)
            return None
        outgoing = Outgoing(chat_id=target, text=text, mentions=tuple(mentions), reply_to=reply_to,
                            thread_id=thread_id, markdown=markdown, image_png=image_png,
                            image_caption=image_caption)
        self.sent.append(outgoing)
        sent = await deliver(adapter, outgoing)
        if reply_key is not None:
            try:
                await self.write(limits.mark_sent_in, slot, reply_key)
            except IntegrityError:  # the same reply was recorded by another handling of the message
                log.warning("reply %s recorded twice", reply_key)
        return sent

    # -- a job's posts --------------------------------------------------------------------------------
    async def post_once(self, chat: ChatSection, period: str, messages: Sequence[Outgoing], *,
                        job: str | None = None, on_claim: Callable[[Connection], None] | None = None,
                        on_release: Callable[[Connection], None] | None = None) -> bool:
        """Send `messages` unless (job, chat, period) was already claimed; True when this run sent.

        Claim and send record are committed before the first send; a failure before anything went
        out releases the claim (and runs `on_release`) so a retry posts it; a failure after part of
        the messages went out keeps the claim (a retry would repeat what was delivered).
        """
        if not messages:
            return False
        adapter = self.services.adapters.get(chat.platform)
        key = ledger.RunKey(job or self.job_id, f"{chat.platform}:{chat.chat_id}", period)
        if adapter is None:
            self.failures.append(f"{key.chat}: no adapter for platform {chat.platform}")
            return False
        text = "\n\n".join(message.text for message in messages)
        claimed = await self.db(ledger.claim, self.services.db, key, text, int(self.now.timestamp()), on_claim=on_claim)
        if not claimed:
            log.info("%s for %s period %s already posted; skipped", key.job, key.chat, period)
            return False
        ids: list[str] = []
        sent_count = 0
        try:
            for message in messages:
                sent: Sent = await deliver(adapter, message)
                ids.extend(sent.message_ids if sent else ())
                sent_count += 1
                self.posted.append(message)
        except Exception as exc:  # noqa: BLE001 - reported through the error handler
            self.failures.append(f"{key.chat}: {type(exc).__name__}: {str(exc)[:200]}")
            if sent_count == 0:
                await self.db(ledger.release, self.services.db, key, on_release=on_release)
                return False
        await self.db(ledger.mark_delivered, self.services.db, key, int(self.services.now().timestamp()), tuple(ids))
        return True
