"""Who a platform says administers a chat, remembered for a few minutes.

Curation (/pin, /hide, /unpin, handlers/curation.py) is allowed to the chat's configured admins
and to the platform's own admins where the platform tells. Asking it is an API call that counts
against the bot's rate limits, and curation commands come in bursts from the same few people,
so each adapter keeps the answers for `ADMIN_TTL_SECONDS`: a newly made or removed admin is
seen within that. A failed lookup is not kept (the next command asks again).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

from bot.platforms.pacing import Clock

ADMIN_TTL_SECONDS = 300.0
MAX_KEPT = 4096  # chats or members; cleared when full (a burst of strangers cannot grow it)
T = TypeVar("T")


class AdminCache(Generic[T]):
    """Answers by key (a chat's admin list, or one member's role), each kept `ttl` seconds."""

    def __init__(self, clock: Clock, ttl: float = ADMIN_TTL_SECONDS) -> None:
        self._clock, self._ttl = clock, ttl
        self._kept: dict[Hashable, tuple[float, T]] = {}

    async def get(self, key: Hashable, fetch: Callable[[], Awaitable[T]]) -> T:
        now = self._clock()
        kept = self._kept.get(key)
        if kept is not None and 0 <= now - kept[0] < self._ttl:
            return kept[1]
        value = await fetch()
        if len(self._kept) >= MAX_KEPT:
            self._kept.clear()
        self._kept[key] = (now, value)
        return value
