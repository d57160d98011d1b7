"""Two `serve` processes on one PostgreSQL store behave like one: the question cool-down, the
per-chat reply limit and /thread's last answer are shared (the store holds them)."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from bot.config import SAMPLE_ARCHIVE
from handlers.thread import NONE_YET
from tests.fakes import four_platforms as fp
from tests.postgres import postgres_db, postgres_url  # noqa: F401 - fixtures
from tests.serve_process import ServeProcess, serving, write_config

QUESTION = "财付通的哪些业务算发卡行的功能？"
ANSWERER = "张洋-旅付天下-技术-北京"


async def post(process: ServeProcess, text: str, n: int) -> None:
    entities = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}] if text.startswith("/") else []
    update = fp.telegram_message(text, message_id=n, update_id=n, entities=entities)
    _, headers, body = fp.signed("telegram", update, 0)
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{process.url}/webhook/telegram", data=body, headers=headers) as response:
            assert response.status == 200


async def settle(telegram_api, count: int, seconds: float = 20) -> list[dict]:
    for _ in range(int(seconds * 10)):
        if len(telegram_api.sent()) >= count:
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(1.5)  # anything more would arrive within the pacing second
    return telegram_api.sent()


@pytest.fixture
async def two_bots(postgres_db, postgres_url, telegram_api, tmp_path):  # noqa: F811
    configs = {name: write_config(tmp_path / f"{name}.toml", {
        "store": {"url": postgres_url},
        "archive": {"paths": [str(SAMPLE_ARCHIVE)], "publish_dir": str(tmp_path / "published")},
        "server": {"run_scheduler": False, "replies_per_minute": 3, "instance": f"web-{name}"},
        "web": {"enabled": False},
        "encoder": {"kind": "none"},  # lexical, with the answer path open: tests/conftest.py
        "answer": {"answer_threshold": 0.02, "suggest_threshold": 0.01},
        "platforms": {"telegram": fp.platforms_section(telegram_api=telegram_api.url)["telegram"]},
        "chats": [{"platform": "telegram", "chat_id": fp.CHATS["telegram"], "group": "prodarch"}],
    }) for name in ("a", "b")}
    async with serving(configs, tmp_path) as processes:
        yield processes


async def test_cooldown_reply_limit_and_last_answer_are_shared(two_bots, telegram_api):
    a, b = two_bots
    await post(a, QUESTION, 1)
    [answer] = await settle(telegram_api, 1)
    assert ANSWERER in answer["text"]
    await post(b, QUESTION, 2)  # the same question, to the other process, within the cool-down
    assert len(await settle(telegram_api, 2, seconds=3)) == 1

    await post(b, "/thread", 3)  # the other process knows the last answer
    sent = await settle(telegram_api, 2)
    assert len(sent) == 2 and NONE_YET not in sent[1]["text"] and ANSWERER in sent[1]["text"]

    for n in range(4, 8):  # the chat's budget is 3 a minute across both processes: 1 reply left
        await post(a if n % 2 else b, "/help", n)
    assert len(await settle(telegram_api, 3, seconds=6)) == 3
