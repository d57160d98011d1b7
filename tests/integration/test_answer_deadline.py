"""The answer deadline: an unprompted answer ready after `answer.deadline_seconds` is not posted.

Ages run on the Services clock from when the bot received the message. A ticking clock (every
look at it finds the world `step` seconds on) stands for a handling that took that long, without
sleeping; a restart's backlog is made of pending rows written as the inbox writes them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time

import pytest
from sqlalchemy import insert, select

from bot.chat import Incoming, Member
from bot.store.schema import pending_work
from bot.store.shared import pending_row
from bot.webhook import DISPATCHER
from tests.integration.conftest import (
    BOT_USERNAME, GROUP, TELEGRAM_CHAT, base_config, post_telegram, telegram_section, tg_update,
)
from tests.integration.test_metrics import scrape

QUESTION = "财付通的哪些业务算发卡行的功能？"  # answered unprompted from the bundled sample day
ANSWERER = "张洋-旅付天下-技术-北京"
OTHER_CHAT = "-1005678"


class TickingClock:
    """A Services clock that moves on `step` seconds every time it is read."""

    def __init__(self, step: float) -> None:
        self.at = dt.datetime(2026, 11, 25, 4, 0, tzinfo=dt.timezone.utc)
        self.step = dt.timedelta(seconds=step)

    def __call__(self) -> dt.datetime:
        self.at += self.step
        return self.at


def late_count(metrics: dict) -> float:
    return metrics.get(("archive_bot_answers_total", (("outcome", "late"),)), 0)


def config(tmp_path, telegram_api, deadline: float) -> dict:
    return base_config(tmp_path, platforms={"telegram": telegram_section(telegram_api)},
                       chats=[{"platform": "telegram", "chat_id": TELEGRAM_CHAT, "group": GROUP}],
                       answer={"deadline_seconds": deadline})


@pytest.mark.parametrize("step, looked_up", [(30, False), (12, True)])
async def test_a_late_unprompted_answer_is_not_posted_counted_and_logged_without_text(
        make_bot, telegram_api, tmp_path, caplog, step, looked_up):
    """30 s a look: too old before the lookup, which is skipped. 12 s a look: 12 s old before the
    lookup, 24 s once the answer is ready."""
    bot = await make_bot(config(tmp_path, telegram_api, deadline=20), clock=TickingClock(step=step))
    before = await scrape(bot)
    caplog.set_level(logging.INFO, logger="handlers.autoanswer")
    update = tg_update(QUESTION)
    assert (await post_telegram(bot.client, update)).status == 200
    assert telegram_api.sent() == []
    assert late_count(await scrape(bot)) - late_count(before) == 1
    [record] = [r for r in caplog.records if r.name == "handlers.autoanswer"]
    assert record.levelno == logging.INFO and str(update["message"]["message_id"]) in record.getMessage()
    assert QUESTION not in record.getMessage() and "发卡行" not in record.getMessage()
    assert (bot.app[DISPATCHER].engine_timing[0] > 0) is looked_up


async def test_the_same_clock_without_a_deadline_answers(make_bot, telegram_api, tmp_path):
    bot = await make_bot(config(tmp_path, telegram_api, deadline=0), clock=TickingClock(step=30))
    await post_telegram(bot.client, tg_update(QUESTION))
    [sent] = telegram_api.sent()
    assert ANSWERER in sent["text"]


async def test_a_late_ask_is_still_answered(make_bot, telegram_api, tmp_path):
    bot = await make_bot(config(tmp_path, telegram_api, deadline=20), clock=TickingClock(step=30))
    before = await scrape(bot)
    update = tg_update(f"/ask {QUESTION}")
    await post_telegram(bot.client, update)
    [sent] = telegram_api.sent()
    assert ANSWERER in sent["text"] and sent["reply_parameters"]["message_id"] == update["message"]["message_id"]
    assert late_count(await scrape(bot)) == late_count(before)


async def test_a_late_question_addressed_to_the_bot_is_still_answered(make_bot, telegram_api, tmp_path):
    """An @-mention of the bot asks it directly, like a command: the member waits for the answer."""
    bot = await make_bot(config(tmp_path, telegram_api, deadline=20), clock=TickingClock(step=30))
    before = await scrape(bot)
    mention = f"@{BOT_USERNAME}"
    update = tg_update(f"{mention} {QUESTION}", entities=[{"type": "mention", "offset": 0, "length": len(mention)}])
    await post_telegram(bot.client, update)
    [sent] = telegram_api.sent()
    assert ANSWERER in sent["text"] and sent["reply_parameters"]["message_id"] == update["message"]["message_id"]
    assert late_count(await scrape(bot)) == late_count(before)


async def test_after_a_restart_old_questions_get_no_unprompted_answer_but_commands_and_fresh_ones_do(
        make_bot, telegram_api, tmp_path):
    raw = config(tmp_path, telegram_api, deadline=25)
    raw["chats"].append({"platform": "telegram", "chat_id": OTHER_CHAT, "group": GROUP})
    first = await make_bot(raw, load_answers=False)
    await first.client.close()

    def message(n: int, text: str, command: str | None = None) -> Incoming:
        # The fresh question in a chat of its own: handled at the same moment as the /ask, it would
        # meet that chat's cool-down for the same words.
        return Incoming("telegram", OTHER_CHAT if n == 3 else TELEGRAM_CHAT, str(n), Member(str(500 + n), f"Member{n}"), text,
                        dt.datetime(2026, 11, 25, tzinfo=dt.timezone.utc), command=command,
                        args=text.split(" ", 1)[1] if command else "")

    # Acknowledged by a run that died an hour ago (the rows as the inbox writes them, its receipt
    # time in claimed_ts), and one acknowledged a second before the restart.
    hour_ago, just_now = int(time.time()) - 3600, int(time.time()) - 1
    rows = [pending_row(message(1, QUESTION), "local#1.0", hour_ago),
            pending_row(message(2, f"/ask {QUESTION}", "ask"), "local#1.0", hour_ago),
            pending_row(message(3, QUESTION), "local#1.0", just_now)]
    with first.services.db.begin() as conn:
        conn.execute(insert(pending_work), rows)
    second = await make_bot(raw)
    for _ in range(200):
        with second.services.db.connect() as conn:
            if not conn.execute(select(pending_work)).all():
                break
        await asyncio.sleep(0.05)
    await second.client.close()
    replied_to = sorted(body["reply_parameters"]["message_id"] for body in telegram_api.sent())
    assert replied_to == [2, 3]
    with second.services.db.connect() as conn:
        assert conn.execute(select(pending_work)).all() == []
