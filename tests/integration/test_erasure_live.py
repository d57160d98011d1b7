"""Erasure reaches a running server: `archive-bot erase` in another process against the same
store (a SQLite file, or PostgreSQL), and the running `serve` (never restarted) quotes the
speaker's words nowhere — not in /search, /ask or an auto-answer on Telegram, nor the web search,
ask API or day page, nor a pinned answer. Every name and line here is invented."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import html
import json
import re
import sys

import aiohttp
import pytest

from bot.archive.writer import write_day
from bot.erasure import erase
from bot.store import curation
from tests.fakes import four_platforms as fp
from tests.integration.conftest import TELEGRAM_CHAT, base_config, post_telegram, telegram_section, tg_update
from tests.postgres import postgres_db, postgres_url  # noqa: F401 - fixtures
from tests.integration.test_erasure import GROUP, LEAVER, SECRET_WORDS, THEIR_LINES, invented_day
from tests.serve_process import REPO, ServeProcess, free_port, write_config

PASSWORD = "correct horse"
AUTH = {"Authorization": "Basic " + base64.b64encode(f"archive:{PASSWORD}".encode()).decode()}
QUESTION = "备付金对账一般用什么报表系统比较稳定？"


def plain(text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", text))


class Chat:
    """Messages to the running server's Telegram webhook, and the replies it sends the fake API."""

    def __init__(self, process: ServeProcess, telegram_api) -> None:
        self.process, self.api, self.n = process, telegram_api, 0

    async def say(self, text: str) -> str:
        self.n += 1
        entities = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}] if text.startswith("/") else []
        update = fp.telegram_message(text, message_id=self.n, update_id=self.n, entities=entities,
                                     user={"id": 600 + self.n, "is_bot": False, "first_name": "Ada"})
        _, headers, body = fp.signed("telegram", update, 0)
        before = len(self.api.sent())
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{self.process.url}/webhook/telegram", data=body, headers=headers) as response:
                assert response.status == 200
        for _ in range(200):
            if len(self.api.sent()) > before:
                return plain(self.api.sent()[-1]["text"])
            await asyncio.sleep(0.05)
        return ""  # the bot stayed silent


async def web(process: ServeProcess, path: str, **params) -> str:
    async with aiohttp.ClientSession(headers=AUTH) as http:
        async with http.get(f"{process.url}{path}", params=params) as response:
            assert response.status in (200, 404)
            if response.content_type == "application/json":  # unescaped, so the words can be looked for
                return json.dumps(await response.json(), ensure_ascii=False)
            return html.unescape(await response.text())


async def erase_in_another_process(config) -> None:
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--config", str(config), "erase", "--speaker", LEAVER, cwd=REPO,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    output, _ = await asyncio.wait_for(child.communicate(), 120)
    assert child.returncode == 0, output.decode(errors="replace")
    assert "erased 2 archived" in output.decode()


@pytest.fixture
async def serving(tmp_path, telegram_api, store_url):
    write_day(invented_day(), tmp_path / "archive")
    config = write_config(tmp_path / "bot.toml", {
        "store": {"url": store_url},
        "archive": {"paths": [str(tmp_path / "archive")]},
        "server": {"run_scheduler": False},
        "web": {"password": PASSWORD},
        "encoder": {"kind": "none"},
        "answer": {"answer_threshold": 0.02, "suggest_threshold": 0.01, "cooldown_seconds": 0},
        "platforms": {"telegram": fp.platforms_section(telegram_api=telegram_api.url)["telegram"]},
        "chats": [{"platform": "telegram", "chat_id": fp.CHATS["telegram"], "group": GROUP}],
    })
    process = ServeProcess(config, free_port(), tmp_path / "serve.log")
    await process.start()
    try:
        await process.ready(timeout=120)
        yield process, config
    finally:
        await process.stop()


async def test_words_erased_by_another_process_are_gone_from_the_running_server(serving, telegram_api):
    process, config = serving
    chat = Chat(process, telegram_api)
    day_page = f"/archive/{GROUP}/2018-03-01"
    assert LEAVER in await chat.say(f"/search {SECRET_WORDS}")
    assert SECRET_WORDS in await chat.say(f"/ask {QUESTION}")
    assert SECRET_WORDS in await chat.say(QUESTION)  # answered unprompted
    assert f"<mark>{SECRET_WORDS}</mark>" in await web(process, "/archive/search", q=SECRET_WORDS)
    assert SECRET_WORDS in await web(process, "/api/ask", q=QUESTION, group=GROUP)
    assert LEAVER in await web(process, day_page)
    pid = process.process.pid

    await erase_in_another_process(config)

    replies = [await chat.say(f"/search {SECRET_WORDS}"), await chat.say(f"/ask {QUESTION}"), await chat.say(QUESTION)]
    pages = [await web(process, "/archive/search", q=SECRET_WORDS), await web(process, "/api/search", q=SECRET_WORDS),
             await web(process, "/api/ask", q=QUESTION, group=GROUP), await web(process, day_page)]
    assert replies[0].startswith(f"没有找到包含“{SECRET_WORDS}”")
    for text in replies + pages:  # searches echo the query; nothing else may say the words
        assert LEAVER not in text and not any(line in text for line in THEIR_LINES)
    for text in replies[1:] + pages[2:]:
        assert SECRET_WORDS not in text
    assert '"total": 0' in pages[1] and f"<mark>{SECRET_WORDS}</mark>" not in pages[0]  # no result marks it
    assert process.process.pid == pid and process.process.returncode is None  # the same server all along


async def test_a_pinned_answer_is_read_after_an_erasure_made_elsewhere(make_bot, telegram_api, tmp_path):
    """A pin is answered from the engine's copy of the unit: that copy must be caught up too."""
    write_day(invented_day(), tmp_path / "archive")
    bot = await make_bot(base_config(tmp_path, answer={"cooldown_seconds": 0}, archive={"paths": [str(tmp_path / "archive")]},
                                     platforms={"telegram": telegram_section(telegram_api)},
                                     chats=[{"platform": "telegram", "chat_id": TELEGRAM_CHAT, "group": GROUP}]))
    db = bot.services.db
    curation.add(db, platform="telegram", chat_id=TELEGRAM_CHAT, action="pin", unit=f"exchange:{GROUP}:2018-03-01:0",
                 question=QUESTION, admin_id="1", ts=1)  # the stayer's question, answered by the leaver
    await post_telegram(bot.client, tg_update(f"/ask {QUESTION}", user_id=5))
    pinned = plain(telegram_api.sent()[-1]["text"])
    assert "管理员置顶" in pinned and SECRET_WORDS in pinned
    # As another process does it: straight on the store, this app is not told.
    await asyncio.to_thread(erase, db, bot.config, {LEAVER}, requested_by="operator",
                            now=dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc))
    await post_telegram(bot.client, tg_update(f"/ask {QUESTION}", user_id=6))
    asked = plain(telegram_api.sent()[-1]["text"])
    assert LEAVER not in asked and SECRET_WORDS not in asked and not any(line in asked for line in THEIR_LINES)
