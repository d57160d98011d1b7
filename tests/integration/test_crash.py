"""kill -9 during handling: every command acknowledged with a 200 is answered exactly once.

A real `serve` process (SQLite file, fake Telegram API served from this test on 127.0.0.1) gets
ten /search commands; Telegram's pacing (one message a second per chat) keeps most replies
waiting when SIGKILL arrives 2.5 s later. Restarted on the same address, the process handles
what was acknowledged but not answered, and skips the replies that had already gone out.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections import Counter

import aiohttp

from bot.chat import Incoming, Member
from bot.config import SAMPLE_ARCHIVE
from tests.fakes import four_platforms as fp
from tests.serve_process import ServeProcess, free_port, write_config

COMMANDS = 10


def answered(telegram_api) -> Counter:
    return Counter(body["reply_parameters"]["message_id"] for body in telegram_api.sent()
                   if isinstance(body, dict) and "reply_parameters" in body)


async def test_kill_9_mid_dispatch_then_every_acknowledged_command_answered_once(telegram_api, tmp_path):
    port = free_port()
    config = write_config(tmp_path / "bot.toml", {
        "store": {"url": f"sqlite:///{tmp_path / 'bot.db'}"},
        "archive": {"paths": [str(SAMPLE_ARCHIVE)], "publish_dir": str(tmp_path / "published")},
        "server": {"run_scheduler": False, "replies_per_minute": 100, "shutdown_timeout": 1},
        "web": {"enabled": False},
        "platforms": {"telegram": fp.platforms_section(telegram_api=telegram_api.url)["telegram"]},
        "chats": [{"platform": "telegram", "chat_id": fp.CHATS["telegram"], "group": "prodarch"}],
    })
    first = await ServeProcess(config, port, tmp_path / "serve.log").start()
    try:
        await first.ready()
        acknowledged = []
        async with aiohttp.ClientSession() as http:
            for n in range(1, COMMANDS + 1):
                update = fp.telegram_message("/search 发卡行", message_id=n, update_id=n, entities=[
                    {"type": "bot_command", "offset": 0, "length": 7}])
                _, headers, body = fp.signed("telegram", update, 0)
                async with http.post(f"{first.url}/webhook/telegram", data=body, headers=headers) as response:
                    if response.status == 200:
                        acknowledged.append(n)
        assert acknowledged == list(range(1, COMMANDS + 1))
        await asyncio.sleep(2.5)
        await first.kill()
    finally:
        await first.kill()
    before_restart = answered(telegram_api)
    assert 0 < len(before_restart) < COMMANDS, "the kill must land mid-dispatch"

    second = await ServeProcess(config, port, tmp_path / "serve.log").start()
    try:
        await second.ready()
        for _ in range(300):
            if len(answered(telegram_api)) == COMMANDS:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.5)  # a duplicate would arrive within the pacing second
    finally:
        await second.stop()
    counts = answered(telegram_api)
    report = {"answered_before_kill": len(before_restart), "answered_after_restart": len(counts) - len(before_restart)}
    print(json.dumps(report))
    assert sorted(counts) == acknowledged and set(counts.values()) == {1}, counts


async def test_a_restart_handles_what_is_pending_and_skips_replies_already_sent(make_bot, telegram_api, tmp_path,
                                                                                 fake_clock):
    from sqlalchemy import insert, select

    from bot.store.schema import pending_work
    from bot.store.shared import pending_row
    from tests.integration.conftest import base_config

    raw = base_config(tmp_path, platforms={"telegram": fp.platforms_section(telegram_api=telegram_api.url)["telegram"]},
                      chats=[{"platform": "telegram", "chat_id": fp.CHATS["telegram"], "group": "prodarch"}])
    first = await make_bot(raw, load_answers=False)
    entity = [{"type": "bot_command", "offset": 0, "length": 5}]
    _, headers, body = fp.signed("telegram", fp.telegram_message("/help", message_id=1, entities=entity), 0)
    assert (await first.client.post("/webhook/telegram", data=body, headers=headers)).status == 200
    assert list(answered(telegram_api)) == [1]
    # As if the process had died after the reply went out but before its pending row went away,
    # and after acknowledging message 2 but before handling it:
    def message(n: int) -> Incoming:
        return Incoming("telegram", fp.CHATS["telegram"], str(n), Member("501", "Ada"), "/help",
                        dt.datetime(2026, 11, 25, tzinfo=dt.timezone.utc), command="help")
    await first.client.close()
    with first.services.db.begin() as conn:
        conn.execute(insert(pending_work), [pending_row(message(1), "local#1.0", 0), pending_row(message(2), "local#1.0", 0)])
    second = await make_bot(raw, load_answers=False)
    for _ in range(100):
        if 2 in answered(telegram_api):
            break
        await asyncio.sleep(0.05)
    await second.client.close()
    assert answered(telegram_api) == Counter({1: 1, 2: 1})
    with second.services.db.connect() as conn:
        assert conn.execute(select(pending_work)).all() == []
