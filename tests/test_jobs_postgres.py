"""The scheduled jobs on a real PostgreSQL server: two clocks (two engines) post once, reminder
counts, the digest's same-date replay query, and the nightly publication."""

from __future__ import annotations

import datetime as dt

from bot.store import ledger
from bot.archive.model import Day, Message
from bot.chat import Member
from bot.config import Config
from bot.platforms.telegram import TelegramAdapter
from bot.scheduler import JobScheduler
from bot.services import Services
from bot.store import connect
from bot.store.ingest import ingest_day
from tests.jobs_support import GROUP, ZONE, Clock, at, incoming, make_config, store

PLAIN = Member("991", "小赵")
NAMED = Member("992", "钱六-卯支付-产品-长沙")


def services_on(url: str, config: Config, http, clock, fake_clock) -> Services:
    services = Services(config=config, db=connect(url, create=False), http=http, clock=clock)
    services.adapters["telegram"] = TelegramAdapter(config.platforms.telegram, http, clock=fake_clock,
                                                    sleep=fake_clock.sleep)
    return services


async def test_jobs_on_postgres(postgres_db, postgres_url, tmp_path, telegram_api, http, fake_clock):
    raw = make_config(tmp_path, telegram_api.api_base).model_dump(mode="json")
    raw["store"] = {"url": postgres_url}
    config = Config.model_validate(raw)
    clock = Clock(at(2024, 6, 1, 22, 0))
    one, two = (services_on(postgres_url, config, http, clock, fake_clock) for _ in range(2))
    try:
        earlier = Day(GROUP, dt.date(2023, 6, 1), "t", "a", messages=[
            Message(dt.datetime(2023, 6, 1, 9, 0, tzinfo=ZONE), NAMED.name, "请问分账系统一般怎么设计？"),
            Message(dt.datetime(2023, 6, 1, 9, 2, tzinfo=ZONE), PLAIN.name, "先定分账规则，再按订单异步分账，最后对账。"),
        ])
        ingest_day(one.db, earlier)
        await store(one, [incoming(PLAIN, "今天有人讨论分账吗？", at(2024, 6, 1, 10, 0)),
                          incoming(NAMED, "分账要看是否持牌", at(2024, 6, 1, 10, 2))])
        for services in (one, two):  # two clocks
            await JobScheduler(services).trampoline("digest")
        (digest,) = [p for p in telegram_api.sent() if "群日报" in p["text"]]
        assert "往年今日 2023-06-01" in digest["text"]

        clock.now = at(2024, 6, 2, 0, 10)
        for services in (one, two):
            await JobScheduler(services).trampoline("publish")
        assert (config.archive.publish_dir / GROUP / "2024-06-01-chat.markdown").exists()
        assert [r["status"] for r in ledger.runs(one.db, "publish")] == ["delivered"]

        for day in (2, 3, 4):
            clock.now = at(2024, 6, day, 6, 45)
            for services in (one, two):
                await JobScheduler(services).trampoline("nicknames")
        reminders = [p for p in telegram_api.sent() if "修改下群昵称" in p["text"]]
        assert len(reminders) == 2 and all("tg://user?id=991" in p["text"] for p in reminders)
        (escalation,) = [p for p in telegram_api.sent() if "可以移出本群" in p["text"]]
        assert PLAIN.name in escalation["text"]
    finally:
        one.db.dispose()
        two.db.dispose()
