"""Feedback and curation of units of every kind through the real Telegram webhook and the fake Bot
API, over an invented day (tests/units_day.py): rows an earlier version stored under `pair:` keys
are renamed at start and still count, a pinned talk passage wins and still does after a restart,
and a reply chain marked wrong is not posted again for the question."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from bot.archive.writer import write_day
from bot.store import answers, connect, curation
from bot.store.schema import answers as answer_rows
from bot.store.schema import curation as curation_rows
from tests.integration.conftest import TELEGRAM_CHAT, base_config, post_telegram, telegram_section, tg_update
from tests.units_day import (
    ASK_ENGINE, ASK_EXCHANGE, ASK_TALK, DATE, EXCHANGE_ANSWER, GROUP, TALK_TAIL, units_day,
)

ADMIN, MEMBER = 910, 911
FINES = "拒付率太高会被卡组织罚款吗？"  # pinned (by an earlier version) to the talk's first piece
FINES_LINE = "拒付率超过百分之一"
ENGINE_LINE = "灰度发布按商户号尾号分批切流量"


def plain(text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def legacy(seq: int) -> str:
    return f"pair:{GROUP}:{DATE}:{seq}"


def old_rows(db) -> None:
    """What a version before unit ids stored: a pin, a hide and a wrong answer under `pair:` keys."""
    chat = dict(platform="telegram", chat_id=TELEGRAM_CHAT)
    curation.add(db, **chat, action="pin", unit=legacy(3), question=FINES, admin_id=str(ADMIN), ts=1)
    curation.add(db, **chat, action="hide", unit=legacy(0), question="", admin_id=str(ADMIN), ts=2)
    answer_id = answers.record(db, **chat, group=GROUP, kind="answer", prompted=False, question_message_id="77",
                               asker_id="5", question=ASK_ENGINE, unit=legacy(7), score=0.5, ts=3,
                               message_ids=["900"])
    answers.give(db, answer_id, "6", answers.WRONG, "reply", 4)


@pytest.fixture
def raw(tmp_path, telegram_api):
    write_day(units_day(), tmp_path / "archive")
    old_rows(connect(tmp_path / "bot.db"))
    return base_config(tmp_path, answer={"cooldown_seconds": 0, "answer_threshold": 0.02, "suggest_threshold": 0.01},
                       archive={"paths": [str(tmp_path / "archive")]},
                       platforms={"telegram": telegram_section(telegram_api)},
                       chats=[{"platform": "telegram", "chat_id": TELEGRAM_CHAT, "group": GROUP,
                               "admins": [str(ADMIN)]}])


async def say(bot, text: str, user_id: int, **extra) -> None:
    await post_telegram(bot.client, tg_update(text, user_id=user_id, name=f"成员{user_id}", **extra))


def answer_to(message_id: int) -> dict:
    return {"message_id": message_id, "date": 0, "chat": {"id": int(TELEGRAM_CHAT), "type": "supergroup"},
            "from": {"id": 1, "is_bot": True, "first_name": "X"}, "text": "…"}


async def test_old_keys_are_renamed_and_a_pinned_passage_wins_across_a_restart(make_bot, raw, telegram_api):
    bot = await make_bot(raw)
    with bot.services.db.connect() as conn:
        pins = dict(conn.execute(select(curation_rows.c.action, curation_rows.c.unit)).all())
        [logged] = conn.execute(select(answer_rows.c.unit)).scalars().all()
    assert pins == {"pin": f"passage:{GROUP}:{DATE}:3", "hide": f"exchange:{GROUP}:{DATE}:0"}
    assert logged == f"chain:{GROUP}:{DATE}:7"

    await say(bot, FINES, MEMBER)  # the old pin: the talk's first piece, cited as pinned
    text = plain(telegram_api.sent()[-1]["text"])
    assert "管理员置顶" in text and FINES_LINE in text
    before = len(telegram_api.sent())
    await say(bot, ASK_ENGINE, MEMBER)  # the chain the group called wrong: not posted unprompted
    await say(bot, ASK_EXCHANGE, MEMBER)  # the hidden exchange: never
    await say(bot, f"/ask {ASK_EXCHANGE}", MEMBER)
    later = [plain(m["text"]) for m in telegram_api.sent()[before:]]
    assert later and not any(ENGINE_LINE in t or EXCHANGE_ANSWER in t for t in later)

    await say(bot, f"/ask {ASK_TALK}", MEMBER)  # answered from the talk's second piece
    assert TALK_TAIL in plain(telegram_api.sent()[-1]["text"])
    answered = 1000 + len(telegram_api.sent())  # the fake API numbers the bot's messages from 1001
    await say(bot, f"/pin {ASK_EXCHANGE}", ADMIN, reply_to_message=answer_to(answered))
    assert telegram_api.sent()[-1]["text"].startswith("已置顶")
    with bot.services.db.connect() as conn:
        assert f"passage:{GROUP}:{DATE}:3:1" in conn.execute(select(curation_rows.c.unit)).scalars().all()

    restarted = await make_bot(raw)  # a second start on the same store and archive
    await say(restarted, ASK_EXCHANGE, MEMBER)
    text = plain(telegram_api.sent()[-1]["text"])
    assert "管理员置顶" in text and TALK_TAIL in text and EXCHANGE_ANSWER not in text


async def test_every_kind_of_answer_has_its_page_under_its_id(make_bot, raw, tmp_path):
    import base64
    import json

    raw["web"] = {"password": "pw for tests"}
    auth = {"Authorization": "Basic " + base64.b64encode(b"archive:pw for tests").decode()}
    bot = await make_bot(raw)

    async def get(path: str, status: int = 200, **params) -> str:
        response = await bot.client.get(path, params=params, headers=auth)
        assert response.status == status, path
        return await response.text()

    asked = json.loads(await get("/api/ask", q=ASK_TALK, group=GROUP))
    assert asked["match"]["kind"] == "passage"
    assert asked["match"]["qa"] == f"/archive/qa/passage:{GROUP}:{DATE}:3:1"
    assert TALK_TAIL in plain(await get(asked["match"]["qa"]))
    chain = json.loads(await get("/api/ask", q=ASK_ENGINE, group=GROUP))["match"]
    assert chain["kind"] == "chain" and ENGINE_LINE in plain(await get(chain["qa"]))
    assert EXCHANGE_ANSWER in plain(await get(f"/archive/qa/{GROUP}:{DATE}:0"))  # an older exchange link
    await get(f"/archive/qa/passage:{GROUP}:{DATE}:3:7", 404)
    await get(f"/archive/qa/chain:{GROUP}:2021-02-30:7", 400)
