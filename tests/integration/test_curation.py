"""Admin curation through the real Telegram webhook and the fake Bot API: /pin, /unpin, /hide."""

from __future__ import annotations

import html
import re

import pytest

from bot.platforms.admins import ADMIN_TTL_SECONDS
from tests.integration.conftest import (
    GROUP, TELEGRAM_CHAT, base_config, post_telegram, telegram_section, tg_update,
)

QUESTION = "财付通的哪些业务算发卡行的功能？"
PARAPHRASE = "财付通哪些业务算是发卡行的功能呢？"
ANSWERER = "张洋-旅付天下-技术-北京"  # who answered it in the bundled sample day
ADMIN, MEMBER, PLATFORM_ADMIN = 900, 901, 902


def plain(text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def replying_to(message_id: int, user_id: int = 1, is_bot: bool = True) -> dict:
    return {"message_id": message_id, "date": 0, "chat": {"id": int(TELEGRAM_CHAT), "type": "supergroup"},
            "from": {"id": user_id, "is_bot": is_bot, "first_name": "X"}, "text": "…"}


@pytest.fixture
async def bot(make_bot, telegram_api, tmp_path):
    # The answer path opens between the question's own discussion (0.2 with the shipped lexical
    # model) and the next one once that is hidden (at most 0.05), so a hide is seen as silence.
    raw = base_config(tmp_path, answer={"cooldown_seconds": 0, "answer_threshold": 0.1, "suggest_threshold": 0.05}, bot={"public_base_url": "https://bot.example.org"},
                      platforms={"telegram": telegram_section(telegram_api)},
                      chats=[{"platform": "telegram", "chat_id": TELEGRAM_CHAT, "group": GROUP,
                              "admins": [str(ADMIN)]}])
    return await make_bot(raw)


async def say(bot, text: str, user_id: int, **extra) -> str:
    await post_telegram(bot.client, tg_update(text, user_id=user_id, name=f"成员{user_id}", **extra))
    return bot


async def test_a_pinned_live_message_wins_and_is_cited_with_speaker_and_time(bot, telegram_api):
    await say(bot, QUESTION, 1)
    assert ANSWERER in plain(telegram_api.sent()[-1]["text"])  # the engine's own answer first
    await post_telegram(bot.client, tg_update("看是否给消费者开立账户、发行预付卡，这些业务属于发卡。", message_id=7001,
                                              user_id=55, name="林一-清算-深圳"))
    await say(bot, f"/pin {QUESTION}", ADMIN, reply_to_message=replying_to(7001, 55, is_bot=False))
    assert telegram_api.sent()[-1]["text"].startswith("已置顶")
    await say(bot, PARAPHRASE, 2)
    text = plain(telegram_api.sent()[-1]["text"])
    assert "管理员置顶" in text and "林一-清算-深圳（2026-11-25 11:00）" in text and "发行预付卡" in text
    assert ANSWERER not in text
    await say(bot, f"/ask {QUESTION}", 3)  # asked outright: the pin comes first too
    assert "林一-清算-深圳" in plain(telegram_api.sent()[-1]["text"])
    await say(bot, "/unpin", ADMIN, reply_to_message=replying_to(7001, 55, is_bot=False))
    assert telegram_api.sent()[-1]["text"] == "已取消置顶和隐藏。"
    await say(bot, QUESTION, 4)
    assert ANSWERER in plain(telegram_api.sent()[-1]["text"])


async def test_an_archived_message_pinned_by_its_time(bot, telegram_api):
    await say(bot, "/pin 2018-02-28 09:15:06 财付通算不算发卡行", ADMIN)
    assert telegram_api.sent()[-1]["text"].startswith("已置顶")
    await say(bot, "财付通算不算发卡行？", 2)
    text = plain(telegram_api.sent()[-1]["text"])
    assert f"{ANSWERER}（2018-02-28 09:15）" in text
    assert "https://bot.example.org/archive/prodarch/2018-02-28#t-091506" in text


async def test_hide_as_a_reply_to_the_bots_answer(bot, telegram_api):
    await say(bot, QUESTION, 1)
    answered = len(telegram_api.sent())
    await say(bot, "/hide", ADMIN, reply_to_message=replying_to(1001))  # the fake API's first message id
    assert telegram_api.sent()[-1]["text"].startswith("已隐藏")
    await say(bot, QUESTION, 2)
    await say(bot, f"/ask {QUESTION}", 3)  # hidden everywhere, asked or not
    assert ANSWERER not in plain(telegram_api.sent()[-1]["text"])
    assert len(telegram_api.sent()) == answered + 2  # the /hide receipt and the /ask reply only


async def test_members_are_refused_politely_and_platform_admins_may_curate(bot, telegram_api, fake_clock):
    await say(bot, QUESTION, 1)
    for command in ("/pin 财付通", "/hide", "/unpin"):
        await say(bot, command, MEMBER, reply_to_message=replying_to(1001))
        assert telegram_api.sent()[-1]["text"] == "抱歉，只有群管理员可以置顶或隐藏回答。"
    assert len(telegram_api.sent("getChatAdministrators")) == 1  # the group's list is kept a few minutes
    telegram_api.chat_admins = [PLATFORM_ADMIN]  # Telegram says this member administers the group
    fake_clock.advance(ADMIN_TTL_SECONDS + 1)  # and the kept list is older than that
    await say(bot, "/hide", PLATFORM_ADMIN, reply_to_message=replying_to(1001))
    assert telegram_api.sent()[-1]["text"].startswith("已隐藏")
    await say(bot, "/pin", ADMIN)  # no reply and no archived time: how to use it
    assert telegram_api.sent()[-1]["text"].startswith("用法：")
