"""The pacer's sliding windows and the bounded retry loop, on a fake clock (no real sleeping)."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.platforms.pacing import Pacer, RetryLater, SendFailed, pacer_clock, with_retries
from tests.fakes.clock import FakeClock


async def test_windows_are_enforced_per_key():
    clock = FakeClock()
    pacer = Pacer([(1, 1.0), (3, 10.0)], clock=clock, sleep=clock.sleep)
    start = clock.now
    for _ in range(3):
        await pacer.wait("a")
    assert clock.now - start == pytest.approx(2)
    assert await pacer.wait("b") == 0  # another chat is not held up
    await pacer.wait("a")  # 4th in 10 s waits for the first to leave the window
    assert clock.now - start == pytest.approx(10)


async def test_time_passing_frees_the_window():
    clock = FakeClock()
    pacer = Pacer([(2, 60.0)], clock=clock, sleep=clock.sleep)
    await pacer.wait("a")
    await pacer.wait("a")
    clock.advance(61)
    assert pacer.delay("a") == 0 and await pacer.wait("a") == 0


async def test_concurrent_senders_queue_instead_of_bursting():
    clock = FakeClock()
    pacer = Pacer([(1, 1.0)], clock=clock, sleep=clock.sleep)
    stamps = []

    async def send():
        await pacer.wait("a")
        stamps.append(clock.now)

    await asyncio.gather(*(send() for _ in range(4)))
    assert sorted(stamps) == pytest.approx([stamps[0] + n for n in range(4)])


def test_limits_must_be_positive():
    with pytest.raises(ValueError):
        Pacer([(0, 1.0)])
    with pytest.raises(ValueError):
        Pacer([])


async def test_retries_use_the_hint_then_backoff_and_stop():
    clock = FakeClock()
    calls = []

    async def flaky():
        calls.append(clock.now)
        if len(calls) == 1:
            raise RetryLater("429", 7)
        if len(calls) < 4:
            raise RetryLater("500")
        return "ok"

    assert await with_retries(flaky, platform="x", sleep=clock.sleep, attempts=4) == "ok"
    assert clock.sleeps == [7, 2.0, 4.0]

    async def always():
        raise RetryLater("HTTP 502", status=502)

    with pytest.raises(SendFailed) as info:
        await with_retries(always, platform="x", sleep=clock.sleep, attempts=3)
    assert info.value.status == 502 and "3 attempt" in str(info.value)


async def test_an_absurd_retry_hint_is_not_waited_for():
    clock = FakeClock()

    async def banned():
        raise RetryLater("429", 3600)

    with pytest.raises(SendFailed):
        await with_retries(banned, platform="x", sleep=clock.sleep)
    assert clock.sleeps == []


def test_default_wall_clock_is_replaced_by_monotonic_for_pacing():
    fake = FakeClock()
    assert pacer_clock(time.time) is time.monotonic and pacer_clock(fake) is fake
