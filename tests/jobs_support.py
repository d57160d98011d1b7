"""Shared set-up for the scheduled-job tests: a real SQLite file, the real Telegram adapter
pointed at the fake Telegram API on 127.0.0.1, a controllable clock, live messages stored through
the real inbox. All names here are invented."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.chat import Incoming, Member
from bot.config import Config
from bot.inbox import Inbox, Item
from bot.platforms.telegram import TelegramAdapter
from bot.services import Services
from bot.store import connect
from tests.fakes.telegram_api import TOKEN

ZONE = ZoneInfo("Asia/Shanghai")
GROUP = "testgroup"
CHAT_ID = "-100777"
ADMIN = Member("9001", "管理员-测试群-运营-北京")

_ids = itertools.count(1)


class Clock:
    """Services.clock: returns `now`, which tests set."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def set(self, *args: int) -> dt.datetime:
        self.now = dt.datetime(*args, tzinfo=ZONE)
        return self.now


def make_config(tmp_path: Path, api_base: str, chats: list[dict] | None = None, **sections) -> Config:
    raw = {
        "bot": {"public_base_url": "https://bot.example.org"},
        "store": {"url": f"sqlite:///{tmp_path / 'bot.db'}"},
        "archive": {"paths": [], "publish_dir": str(tmp_path / "published")},
        "encoder": {"kind": "none"},  # the encoder has its own tests (tests/test_qa_persisted.py)
        "answer": {"answer_threshold": 0.02, "suggest_threshold": 0.01},  # see tests/integration/conftest.py
        "platforms": {"telegram": {"bot_token": TOKEN, "api_base": api_base, "bot_username": "ArchiveTestBot"}},
        "chats": chats or [{"platform": "telegram", "chat_id": CHAT_ID, "group": GROUP, "admins": [ADMIN.id]}],
    }
    for name, values in sections.items():
        raw[name] = values
    return Config.model_validate(raw)


def make_services(config: Config, http, clock: Clock, fake_clock) -> Services:
    """A fresh Services (its own engine) over the config's SQLite file: one per 'process'."""
    services = Services(config=config, db=connect(config.store.url), http=http, clock=clock)
    services.adapters["telegram"] = TelegramAdapter(config.platforms.telegram, http, clock=fake_clock,
                                                    sleep=fake_clock.sleep)
    return services


def incoming(sender: Member, text: str, when: dt.datetime, *, joined: tuple[Member, ...] = (),
             chat_id: str = CHAT_ID, command: str | None = None, args: str = "",
             reply_to: str | None = None) -> Incoming:
    return Incoming(platform="telegram", chat_id=chat_id, message_id=str(next(_ids)), sender=sender, text=text,
                    time=when, joined=joined, command=command, args=args, reply_to=reply_to)


async def store(services: Services, messages: list[Incoming], group: str = GROUP) -> None:
    """Through the real inbox, as the webhook stores them (members table included)."""
    inbox = Inbox(services.db, services.zone)
    inbox.start()
    try:
        await inbox.store([Item(m, group) for m in messages])
    finally:
        await inbox.close()


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=ZONE)
