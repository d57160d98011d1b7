"""Answering's writes in group commits (bot/answer_writes.py): same answers, each given once.

A burst of /ask questions through the real webhook (acknowledged first, handled in tasks) shares
transactions, and every question gets exactly the answer it gets when asked alone; a job that
fails reaches only its own caller, the rest of its batch is committed.
"""

from __future__ import annotations

import asyncio
from collections import Counter

from sqlalchemy import insert, select, text

from bot.answer_writes import AnswerWrites
from bot.store.db import connect
from bot.store.schema import answers, chat_state
from bot.webhook import DISPATCHER
from tests.integration.conftest import GROUP, base_config, post_telegram, telegram_section, tg_update

QUESTION = "/ask 财付通的哪些业务算发卡行的功能？"
CHATS = [str(-1_000_100 - n) for n in range(12)]


def replies(telegram_api) -> Counter:
    return Counter((str(body["chat_id"]), body["reply_parameters"]["message_id"]) for body in telegram_api.sent())


async def test_a_burst_of_questions_is_answered_once_each_with_the_answer_asked_alone(make_bot, telegram_api,
                                                                                      tmp_path):
    raw = base_config(tmp_path, platforms={"telegram": telegram_section(telegram_api)},
                      chats=[{"platform": "telegram", "chat_id": chat, "group": GROUP} for chat in CHATS])
    bot = await make_bot(raw, inline=False)
    alone = tg_update(QUESTION, chat_id=CHATS[0])
    await post_telegram(bot.client, alone)
    for _ in range(200):
        if telegram_api.sent():
            break
        await asyncio.sleep(0.02)
    [expected] = telegram_api.sent()
    writes = bot.app[DISPATCHER].writes
    batches, jobs = writes.batches, writes.jobs

    burst = [tg_update(QUESTION, chat_id=chat) for chat in CHATS[1:] for _ in range(3)]
    statuses = await asyncio.gather(*(post_telegram(bot.client, update) for update in burst))
    assert {response.status for response in statuses} == {200}
    for _ in range(400):
        if len(telegram_api.sent()) == 1 + len(burst):
            break
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.2)  # a second answer to any of them would have arrived by now

    sent = telegram_api.sent()[1:]
    assert set(replies(telegram_api).values()) == {1} and len(sent) == len(burst)
    # Each chat: its first question answered exactly as when asked alone, the two repeats told so.
    for chat in CHATS[1:]:
        texts = [body["text"] for body in sent if str(body["chat_id"]) == chat]
        assert sorted(texts) == sorted([expected["text"], "这个问题刚刚回答过，请看上面的回复。",
                                        "这个问题刚刚回答过，请看上面的回复。"]), chat
    with bot.services.db.connect() as conn:
        logged = conn.execute(select(answers.c.chat_id)).scalars().all()
    assert sorted(logged) == sorted(CHATS)
    # The burst's writes (cool-down, /thread's answer, reply slots, answer log) shared commits.
    assert writes.jobs - jobs > 2 * (writes.batches - batches)


async def test_a_failing_job_fails_alone_and_its_batch_is_committed(tmp_path):
    db = connect(tmp_path / "writes.db")
    writes = AnswerWrites(db)

    def remember(conn, n: int) -> int:
        conn.execute(insert(chat_state).values(platform="t", chat_id=str(n), name="last_answer", value=str(n)))
        return n

    def broken(conn) -> None:
        conn.execute(text("INSERT INTO no_such_table VALUES (1)"))

    results = await asyncio.gather(*(writes.run(remember, n) for n in range(5)), writes.run(broken),
                                   *(writes.run(remember, n) for n in range(5, 10)), return_exceptions=True)
    assert results[:5] == list(range(5)) and results[6:] == list(range(5, 10))
    assert isinstance(results[5], Exception)
    with db.connect() as conn:
        assert sorted(int(v) for v in conn.execute(select(chat_state.c.value)).scalars()) == list(range(10))
    writes.close()


async def test_jobs_run_in_queue_order_and_share_batches(tmp_path):
    burst = 50
    db = connect(tmp_path / "order.db")
    writes = AnswerWrites(db)
    seen: list[int] = []

    def note(conn, n: int) -> None:
        seen.append(n)

    await asyncio.gather(*(writes.run(note, n) for n in range(burst)))
    assert seen == list(range(burst)) and writes.batches < burst
    writes.close()


async def test_closing_runs_what_is_queued_even_for_a_cancelled_handling(tmp_path):
    """A reply that went out is marked sent although its handling was cancelled at shutdown."""
    db = connect(tmp_path / "close.db")
    writes = AnswerWrites(db)

    def remember(conn, n: int) -> None:
        conn.execute(insert(chat_state).values(platform="t", chat_id=str(n), name="last_answer", value=str(n)))

    await writes.run(remember, 0)  # the thread is running
    handling = asyncio.ensure_future(writes.run(remember, 1))
    await asyncio.sleep(0)  # queued, not yet handed over
    handling.cancel()
    writes.close()
    with db.connect() as conn:
        assert sorted(conn.execute(select(chat_state.c.chat_id)).scalars()) == ["0", "1"]
