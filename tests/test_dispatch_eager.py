"""Dispatch runs at once up to its first wait; only a dispatch that waits gets a task."""

from __future__ import annotations

import asyncio

import pytest

from bot.chat import Member
from bot.dispatch import Dispatcher
from bot.router import Router
from tests.jobs_support import CHAT_ID, Clock, at, incoming, make_config, make_services

MEMBER = Member("961", "卫三-丑支付-运营-杭州")


@pytest.fixture
async def services(tmp_path, telegram_api, http, fake_clock):
    config = make_config(tmp_path, telegram_api.api_base,
                         chats=[{"platform": "telegram", "chat_id": CHAT_ID, "group": "g"}])
    return make_services(config, http, Clock(at(2024, 7, 1, 9, 0)), fake_clock)


def dispatcher_with(services, observer) -> tuple[Dispatcher, list]:
    router = Router("eager-test")
    router.observe()(observer)
    dispatcher = Dispatcher(services, router)
    handled: list = []
    dispatcher.on_handled = handled.append
    return dispatcher, handled


async def test_a_dispatch_that_never_waits_needs_no_task(services):
    seen = []

    async def observe(ctx):
        seen.append(ctx.message.text)

    dispatcher, handled = dispatcher_with(services, observe)
    message = incoming(MEMBER, "收到", at(2024, 7, 1, 9, 0))
    assert dispatcher.spawn(message) is None
    assert seen == ["收到"] and handled == [("telegram", CHAT_ID, message.message_id)]
    assert not dispatcher.tasks


async def test_a_dispatch_that_waits_goes_on_in_a_tracked_task(services):
    gate, seen = asyncio.Event(), []

    async def observe(ctx):
        seen.append("before")
        await gate.wait()
        seen.append(await asyncio.to_thread(lambda: "from a thread"))  # a result is passed back in

    dispatcher, handled = dispatcher_with(services, observe)
    message = incoming(MEMBER, "稍等", at(2024, 7, 1, 9, 0))
    task = dispatcher.spawn(message)
    assert task is not None and task in dispatcher.tasks
    assert seen == ["before"] and handled == []
    gate.set()
    await task
    assert seen == ["before", "from a thread"]
    assert handled == [("telegram", CHAT_ID, message.message_id)]
    assert task not in dispatcher.tasks


async def test_shutdown_cancels_a_waiting_dispatch_and_keeps_it_pending(services):
    cleaned_up = []

    async def observe(ctx):
        try:
            await asyncio.Event().wait()  # never set
        finally:
            cleaned_up.append(True)

    dispatcher, handled = dispatcher_with(services, observe)
    assert dispatcher.spawn(incoming(MEMBER, "永远", at(2024, 7, 1, 9, 0))) is not None
    assert await dispatcher.drain(timeout=0.05) == 1
    assert cleaned_up == [True]
    assert handled == []  # not handled: its pending row stays, the next start handles it


async def test_a_handler_failing_after_a_wait_is_logged_and_the_message_counts_as_handled(services, caplog):
    async def observe(ctx):
        await asyncio.sleep(0)
        raise ValueError("broken handler")

    dispatcher, handled = dispatcher_with(services, observe)
    message = incoming(MEMBER, "出错", at(2024, 7, 1, 9, 0))
    await dispatcher.spawn(message)
    assert "broken handler" in caplog.text
    assert handled == [("telegram", CHAT_ID, message.message_id)]
