"""The one object that holds the bot's long-lived parts, built in the app's cleanup_ctx.

Handlers, jobs and the web pages receive it; nothing is a module-level global.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.config import Config
from bot.erasure_watch import ErasureWatch

if TYPE_CHECKING:  # imported lazily at run time: the engine pulls in jieba and numpy
    import aiohttp
    from sqlalchemy import Engine

    from bot.dispatch import Dispatcher
    from bot.platforms.base import Adapter
    from bot.scheduler import JobScheduler

ChatKey = tuple[str, str]  # (platform, chat_id)


@dataclass
class Services:
    config: Config
    db: Engine
    http: aiohttp.ClientSession
    adapters: dict[str, Adapter] = field(default_factory=dict)  # by platform name
    answers: Any = None  # bot.qa.engine.AnswerEngine once the index is loaded (readiness)
    clock: Callable[[], dt.datetime] | None = None  # tests inject a controllable clock
    dispatcher: Dispatcher | None = None  # set by the app (and the replay) once built
    scheduler: JobScheduler | None = None  # set while the app's scheduler runs
    # Per-process state of the handlers, each field with one owner.
    # /ask and the auto-answerer: the archived exchange behind the chat's last answer (for /thread)
    last_answers: dict[ChatKey, Any] = field(default_factory=dict)
    answer_texts: dict[tuple, str] = field(default_factory=dict)  # rendered answers by exchange and mode
    nickname_rule: tuple[Any, Any] | None = None  # (config section, its NicknameRule), built once
    reminded: dict[ChatKey, tuple[float, set[str]]] = field(default_factory=dict)  # (read at, reminded ids)
    published_seen: int | None = None  # the last publication (ledger id) the answer index loaded
    erasures: ErasureWatch = field(default_factory=ErasureWatch)  # erasures made elsewhere, caught up with

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.config.bot.timezone)

    def now(self) -> dt.datetime:
        clock = self.clock  # every message's context asks: no closure built per call
        return clock() if clock is not None else dt.datetime.now(self.zone)


SERVICES = web.AppKey("services", Services)
