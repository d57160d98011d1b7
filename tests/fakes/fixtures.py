"""Pytest fixtures serving each fake platform API on 127.0.0.1 (registered from tests/conftest.py).

Each fixture returns a started fake with `.url`, `.requests` and `.fail_next(status, times,
retry_after=...)`; `http` is a client session closed after the test. `fake_clock` gives adapters a
clock and a sleep that advances it instead of sleeping.
"""

from __future__ import annotations

import aiohttp
import pytest

from tests.fakes.bridge_callback import BridgeCallback
from tests.fakes.clock import FakeClock
from tests.fakes.slack_api import SlackAPI
from tests.fakes.telegram_api import TelegramAPI
from tests.fakes.wecom_robot import WecomRobot


async def _serve(aiohttp_server, fake):
    server = await aiohttp_server(fake.app, host="127.0.0.1")
    fake.url = str(server.make_url("")).rstrip("/")
    return fake


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def http():
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def telegram_api(aiohttp_server) -> TelegramAPI:
    return await _serve(aiohttp_server, TelegramAPI())


@pytest.fixture
async def slack_api(aiohttp_server) -> SlackAPI:
    return await _serve(aiohttp_server, SlackAPI())


@pytest.fixture
async def wecom_robot(aiohttp_server) -> WecomRobot:
    return await _serve(aiohttp_server, WecomRobot())


@pytest.fixture
async def bridge_callback(aiohttp_server) -> BridgeCallback:
    return await _serve(aiohttp_server, BridgeCallback())
