"""Outgoing delivery discipline shared by the adapters: per-chat pacing, bounded retries, one send.

Platforms throttle bots (Telegram: ~1 message/s and 20/min per group; WeCom robots: 20/min).
Waiting on our side is cheaper than being answered 429, and a 429 or 5xx that still happens is
retried a bounded number of times. Clock and sleep are injected so tests never really sleep.

`post` is the one outbound attempt loop every adapter uses (pace → POST → tolerant JSON →
retry later or fail); an adapter only supplies its URL, its payload and `read`, which turns the
platform's answer into a result, a `RetryLater` or a `SendFailed` by the platform's error codes.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp

from bot import metrics

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]
T = TypeVar("T")

log = logging.getLogger(__name__)


class SendFailed(Exception):
    """A message could not be delivered; the reason never contains a token or a full URL."""

    def __init__(self, platform: str, reason: str, status: int | None = None):
        super().__init__(f"{platform}: {reason}")
        self.platform, self.reason, self.status = platform, reason, status


class RetryLater(Exception):
    """Raised by one attempt when the platform asks us to try again (429, 5xx, a dropped link).

    `delay` is the platform's own hint in seconds (Retry-After, retry_after); None = back off.
    """

    def __init__(self, reason: str, delay: float | None = None, status: int | None = None):
        super().__init__(reason)
        self.reason, self.delay, self.status = reason, delay, status


def pacer_clock(clock: Clock) -> Clock:
    """The wall clock adapters get by default is swapped for a monotonic one: a clock stepped back
    by NTP must not make a chat wait an hour. An injected (test) clock is used as given."""
    return time.monotonic if clock is time.time else clock


class Pacer:
    """Sliding-window limits per key (a chat, a robot): `await pacer.wait(key)` before each send.

    `limits` are (count, seconds) pairs, all enforced: [(1, 1.0), (20, 60.0)] allows one message
    a second and twenty a minute. Waiting callers re-check after sleeping, so concurrent senders to
    one chat queue up instead of bursting.
    """

    def __init__(self, limits: Sequence[tuple[int, float]], *, clock: Clock = time.monotonic,
                 sleep: Sleep = asyncio.sleep):
        if not limits or any(count < 1 or period <= 0 for count, period in limits):
            raise ValueError("pacing limits must be positive (count, seconds) pairs")
        self.limits = tuple(limits)
        self._longest = max(period for _, period in self.limits)
        self._clock, self._sleep = clock, sleep
        self._sent: dict[Hashable, deque[float]] = {}

    def delay(self, key: Hashable) -> float:
        """Seconds until `key` may send again (0 = now)."""
        now = self._clock()
        history = self._sent.get(key)
        if not history:
            return 0.0
        while history and history[0] <= now - self._longest:
            history.popleft()
        wait = 0.0
        for count, period in self.limits:
            recent = [t for t in history if t > now - period]
            if len(recent) >= count:
                wait = max(wait, recent[-count] + period - now)
        return wait

    async def wait(self, key: Hashable) -> float:
        """Sleep until `key` may send, then record the send; returns the seconds waited."""
        waited = 0.0
        while (delay := self.delay(key)) > 0:
            await self._sleep(delay)
            waited += delay
        self._sent.setdefault(key, deque()).append(self._clock())
        return waited


async def with_retries(attempt: Callable[[], Awaitable[T]], *, platform: str, sleep: Sleep,
                       attempts: int = 4, backoff: float = 1.0, max_delay: float = 120.0) -> T:
    """Run `attempt` until it returns; `RetryLater` sleeps (the hint, else exponential backoff).

    After `attempts` tries the last reason is raised as `SendFailed`. A hint longer than
    `max_delay` is not waited for at all: a bot that sleeps ten minutes holds the chat hostage.
    """
    for number in range(1, attempts + 1):
        try:
            return await attempt()
        except RetryLater as exc:
            delay = exc.delay if exc.delay is not None else backoff * 2 ** (number - 1)
            if number == attempts or delay > max_delay:
                raise SendFailed(platform, f"gave up after {number} attempt(s): {exc.reason}",
                                 exc.status) from None
            log.warning("%s: %s; retry %d/%d in %.1f s", platform, exc.reason, number, attempts - 1, delay)
            metrics.SEND_RETRIES.labels(platform).inc()
            await sleep(delay)
    raise AssertionError("unreachable")  # the loop always returns or raises


@dataclass(frozen=True, slots=True)
class Answer:
    """A platform's HTTP answer: status, its Retry-After hint (seconds) and the JSON object ({} when
    the body was not a JSON object)."""

    status: int
    retry_after: float | None
    body: dict[str, Any]


async def post(http: aiohttp.ClientSession, url: str, request: Callable[[], dict], read: Callable[[Answer], T], *,
               platform: str, what: str, sleep: Sleep, attempts: int, pacer: Pacer | None = None,
               pace_key: Hashable = None) -> T:
    """POST until `read` accepts the answer: each attempt waits for the pacer, sends
    `http.post(url, **request())` (built per attempt: a form or a signature must be fresh), and
    hands the answer to `read`. A dropped connection is retried; its message names the error class
    only, since the URL may carry a token."""

    async def attempt() -> T:
        if pacer is not None:
            await pacer.wait(pace_key)
        try:
            async with http.post(url, **request()) as response:
                status, hint = response.status, response.headers.get("Retry-After", "")
                try:
                    body = await response.json(content_type=None)
                except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
                    body = {}
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise RetryLater(f"{what}: connection failed ({exc.__class__.__name__})") from None
        retry_after = float(hint) if hint.isdigit() else None
        return read(Answer(status, retry_after, body if isinstance(body, dict) else {}))

    return await with_retries(attempt, platform=platform, sleep=sleep, attempts=attempts)
