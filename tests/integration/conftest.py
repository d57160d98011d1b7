"""Fixtures for end-to-end tests: a real app on 127.0.0.1, a real SQLite file, the fake platforms.

`make_bot(...)` builds the config for the platforms given (each pointed at its fake API),
starts `create_app` under pytest-aiohttp's `aiohttp_client`, and returns a `Bot` handle with
the client, the app, and helpers to read the store.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.app import create_app, wait_ready
from bot.config import SAMPLE_ARCHIVE, Config
from bot.services import SERVICES
from bot.store.schema import live_messages, members
from tests.fakes.fixtures import (  # noqa: F401 - fixtures re-exported for these tests
    bridge_callback, fake_clock, http, slack_api, telegram_api, wecom_robot,
)
from tests.fakes.telegram_api import TOKEN as TELEGRAM_TOKEN

TELEGRAM_SECRET = "tg-secret-for-tests"
TELEGRAM_CHAT = "-1001234"
GROUP = "prodarch"  # the bundled sample day's group
BOT_USERNAME = "ArchiveTestBot"


@dataclass
class Bot:
    client: TestClient
    app: web.Application
    config: Config

    @property
    def services(self):
        return self.app[SERVICES]

    def live_rows(self, **where: Any) -> list:
        query = select(live_messages)
        for key, value in where.items():
            query = query.where(getattr(live_messages.c, key) == value)
        with self.services.db.connect() as conn:
            return conn.execute(query.order_by(live_messages.c.id)).mappings().all()

    def member_rows(self) -> list:
        with self.services.db.connect() as conn:
            return conn.execute(select(members).where(members.c.platform != "archive")
                                .order_by(members.c.id)).mappings().all()


def base_config(tmp_path: Path, **sections: Any) -> dict:
    raw: dict = {
        "store": {"url": f"sqlite:///{tmp_path / 'bot.db'}"},
        "archive": {"paths": [str(SAMPLE_ARCHIVE)]},
        "server": {"run_scheduler": False, "shutdown_timeout": 5},
        # Lexical answers: the sentence encoder is exercised by the tests that are about it
        # (test_answer_vectors.py, tests/test_qa_*), not re-run for every app on a shared machine.
        "encoder": {"kind": "none"},
        # The shipped lexical model never answers (held-out data never reached 85% without an
        # encoder); these thresholds open the answer path over the bundled sample day.
        "answer": {"answer_threshold": 0.02, "suggest_threshold": 0.01},
        "platforms": {},
        "chats": [],
    }
    for key, value in sections.items():
        if isinstance(value, dict) and isinstance(raw.get(key), dict):
            raw[key].update(value)
        else:
            raw[key] = value
    return raw


def telegram_section(api) -> dict:
    return {"bot_token": TELEGRAM_TOKEN, "secret_token": TELEGRAM_SECRET, "bot_username": BOT_USERNAME,
            "api_base": api.url}


@pytest.fixture
def make_bot(aiohttp_client, fake_clock):
    async def make(raw: dict, *, inline: bool = True, ready: bool = True, load_answers: bool = True,
                   clock=None) -> Bot:
        config = Config.model_validate(raw)
        app = create_app(config, inline_dispatch=inline, load_answers=load_answers, clock=clock,
                         adapter_options={"clock": fake_clock, "sleep": fake_clock.sleep})
        client = await aiohttp_client(app)
        if ready:
            await wait_ready(app)
        return Bot(client, app, config)

    return make


@pytest.fixture
async def tg_bot(make_bot, telegram_api, tmp_path):
    raw = base_config(tmp_path, platforms={"telegram": telegram_section(telegram_api)},
                      chats=[{"platform": "telegram", "chat_id": TELEGRAM_CHAT, "group": GROUP}])
    return await make_bot(raw)


_ids = itertools.count(1)


def tg_update(text: str, *, message_id: int | None = None, user_id: int = 501, name: str = "Ada",
              is_bot: bool = False, chat_id: str = TELEGRAM_CHAT, entities: list | None = None,
              update_id: int | None = None, edited: bool = False, **extra: Any) -> dict:
    """A Telegram update for a supergroup message; a leading /command gets its entity."""
    message_id = message_id or next(_ids)
    if entities is None:
        entities = []
        stripped = text.lstrip()
        if stripped.startswith("/"):
            offset = len(text[: len(text) - len(stripped)].encode("utf-16-le")) // 2
            word = stripped.split()[0]
            entities.append({"type": "bot_command", "offset": offset,
                             "length": len(word.encode("utf-16-le")) // 2})
    message = {
        "message_id": message_id, "date": int(dt.datetime(2026, 11, 25, 3, 0, tzinfo=dt.timezone.utc).timestamp()),
        "chat": {"id": int(chat_id), "type": "supergroup", "title": "Test group"},
        "from": {"id": user_id, "is_bot": is_bot, "first_name": name},
        "text": text, **extra,
    }
    if entities:
        message["entities"] = entities
    return {"update_id": update_id or 10_000 + message_id, ("edited_message" if edited else "message"): message}


async def post_telegram(client: TestClient, update: dict | bytes, *, secret: str = TELEGRAM_SECRET,
                        content_type: str = "application/json"):
    body = update if isinstance(update, bytes) else json.dumps(update).encode()
    return await client.post("/webhook/telegram", data=body,
                             headers={"Content-Type": content_type,
                                      "X-Telegram-Bot-Api-Secret-Token": secret})
