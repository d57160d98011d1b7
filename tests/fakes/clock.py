"""A controllable clock for adapters and pacers: `sleep` advances time instead of waiting."""

from __future__ import annotations

import asyncio


class FakeClock:
    """`clock()` returns the current fake time; `await sleep(s)` records `s` and moves time on."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(seconds, 0.0)
        await asyncio.sleep(0)  # still yield, as a real sleep would
