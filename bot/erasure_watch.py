"""A running process catching up with erasures made elsewhere, so it never quotes erased words.

`archive-bot erase` (another process) and /forgetme in another web process rewrite days in the
store, but this process's answer engine still holds the old days in memory. Each erasure's audit
row comes with the days it rewrote (bot/store/erase.py); the process remembers the last erasure
its engine has seen and, before it answers or searches (a handler's engine call, a pinned
answer, the web pages and API, the digests' suggestions) and on a short timer, compares that with the newest one: a single indexed
`max(id)`. When they differ it reloads just those days (`refresh_from_store`) and forgets the
answers it rendered or remembered from the old ones.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
from typing import TYPE_CHECKING

from aiohttp import web

from bot.store import erase as sql

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)
POLL_SECONDS = 5.0  # an idle process catches up this soon (digests read the engine too)


class ErasureWatch:
    """The last erasure this process's engine has seen, and the catching up after newer ones."""

    def __init__(self) -> None:
        self.seen: int | None = None  # None: not known yet (set before the engine is loaded)
        self._lock = threading.Lock()

    def before_loading(self, db) -> None:
        """Note the newest erasure before the engine reads the store: one made during the load is
        caught up with afterwards (reloading a day that was already read clean costs nothing worse)."""
        self.seen = sql.latest_erasure(db)

    def catch_up(self, services: Services) -> int:
        """Reload the days erased since the last look; returns how many (0 when nothing changed).
        Blocking: from a thread, or `catch_up_async`."""
        engine = services.answers
        if engine is None:
            return 0  # the engine loads from the store as it is now
        if self.seen is not None and sql.latest_erasure(services.db) <= self.seen:
            return 0
        with self._lock:  # one reload at a time; a second caller finds it done
            newest, keys = sql.erased_days_since(services.db, self.seen or 0)
            if self.seen is None:  # an engine loaded without `before_loading`: it read this store
                self.seen = newest
                return 0
            if newest <= self.seen:
                return 0
            if keys:
                engine.refresh_from_store(services.db, keys, zone=services.config.bot.timezone)
            services.answer_texts.clear()  # rendered answers may quote the erased words
            services.last_answers.clear()
            self.seen = newest
        log.info("caught up with erasures: %d day(s) reloaded", len(keys))
        return len(keys)

    async def catch_up_async(self, services: Services) -> int:
        return await asyncio.to_thread(self.catch_up, services)

    async def poll(self, services: Services, seconds: float = POLL_SECONDS) -> None:
        """Catch up every few seconds for as long as the process runs."""
        while True:
            await asyncio.sleep(seconds)
            try:
                await self.catch_up_async(services)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the next look tries again; answering goes on
                log.warning("catching up with erasures failed: %s", type(exc).__name__)


def caught_up(handler):
    """A page or API handler that answers only after the engine has caught up with erasures. A
    wrapper on each route, not a middleware: that would run for every webhook too."""

    @functools.wraps(handler)
    async def page(request: web.Request):
        from bot.services import SERVICES

        services = request.config_dict.get(SERVICES)
        if services is not None:
            await services.erasures.catch_up_async(services)
        return await handler(request)

    return page
