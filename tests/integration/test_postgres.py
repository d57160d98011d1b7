"""The same store, ledger and webhook path on a real PostgreSQL server (large deployments:
several web processes and one clock share one database)."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.store import ledger
from bot.archive import read_folder
from bot.config import SAMPLE_ARCHIVE
from bot.store import queries
from bot.store.ingest import Status, ingest_paths
from bot.store.schema import live_messages, messages
from tests.integration.conftest import TELEGRAM_CHAT, base_config, post_telegram, telegram_section, tg_update


def test_ingest_is_idempotent_and_days_read_back_identical(postgres_db):
    first = ingest_paths(postgres_db, [SAMPLE_ARCHIVE], workers=1)
    again = ingest_paths(postgres_db, [SAMPLE_ARCHIVE], workers=1)
    assert [r.status for r in first.files] == [Status.ADDED]
    assert [r.status for r in again.files] == [Status.UNCHANGED]
    with postgres_db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(messages)).scalar() == 146
    (day,), _ = read_folder([SAMPLE_ARCHIVE])
    stored = queries.load_day(postgres_db, "prodarch", day.date)
    assert len(stored.messages) == len(day.messages)
    assert all(a.same_content(b) for a, b in zip(stored.messages, day.messages))
    assert queries.stats(postgres_db).messages == 146


def test_two_clocks_claim_a_period_once(postgres_db, postgres_url):
    from bot.store import connect

    other_clock = connect(postgres_url, create=False)
    try:
        key = ledger.RunKey("digest", "telegram:-1", "2026-11-25")
        won = [ledger.claim(postgres_db, key, "digest", 1, runner="clock-a"),
               ledger.claim(other_clock, key, "digest", 1, runner="clock-b")]
        assert won == [True, False]
    finally:
        other_clock.dispose()


async def test_question_answered_and_stored_once_on_postgres(make_bot, telegram_api, tmp_path, postgres_db,
                                                           postgres_url):
    raw = base_config(tmp_path, platforms={"telegram": telegram_section(telegram_api)},
                      chats=[{"platform": "telegram", "chat_id": TELEGRAM_CHAT, "group": "prodarch"}])
    raw["store"] = {"url": postgres_url}
    bot = await make_bot(raw)
    update = tg_update("/ask 财付通作为发卡行，它的哪些业务实现了发卡行的功能？")
    for _ in range(2):  # a retried delivery
        assert (await post_telegram(bot.client, update)).status == 200
    sent = [r for r in telegram_api.requests if r.path.endswith("/sendMessage")]
    assert len(sent) == 1
    assert sent[0].json["reply_parameters"]["message_id"] == update["message"]["message_id"]
    assert "为消费者提供账户" in sent[0].json["text"]
    with postgres_db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(live_messages)).scalar() == 1
