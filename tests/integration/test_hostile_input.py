"""Each hostile input found against a served bot, with its exact value: stored cleanly or a 4xx.

All four platforms are configured and every request is validly signed, so only parsing, the
adapter boundary (bot/platforms/bounds.py) and the store decide the answer.
"""

from __future__ import annotations

import datetime as dt

import pytest

from bot.archive.model import Day, Message
from bot.chat import MAX_NAME
from bot.digest import build_digest, render
from bot.context import _cached_key, question_key
from bot.platforms.bounds import MAX_TEXT
from tests.fakes import four_platforms as fp
from tests.integration.conftest import GROUP, base_config


@pytest.fixture
async def four_bot(make_bot, telegram_api, slack_api, wecom_robot, bridge_callback, tmp_path):
    raw = base_config(tmp_path, platforms=fp.platforms_section(
        telegram_api=telegram_api.url, slack_api=slack_api.api_base, robot_url=wecom_robot.webhook_url,
        callback_url=bridge_callback.callback_url), chats=fp.chats_section(GROUP))
    return await make_bot(raw, load_answers=False)


async def post(bot, platform: str, body, clock) -> int:
    query, headers, raw = fp.signed(platform, body, clock.now)
    response = await bot.client.post(f"/webhook/{platform}", params=query, data=raw, headers=headers)
    return response.status


def stored(bot, platform: str) -> list:
    return bot.live_rows(platform=platform)


LONE = "a\ud800b"


async def test_lone_surrogate_in_text_and_name_is_stored_as_replacement_character(four_bot, fake_clock):
    bot = four_bot
    assert await post(bot, "telegram", fp.telegram_message(LONE, user={"id": 7, "first_name": LONE}), fake_clock) == 200
    assert await post(bot, "slack", fp.slack_message(LONE, user_profile={"display_name": LONE}), fake_clock) == 200
    assert await post(bot, "bridge", fp.bridge_message(LONE, sender={"id": "wxid_x", "name": LONE}), fake_clock) == 200
    for platform in ("telegram", "slack", "bridge"):
        [row] = stored(bot, platform)
        assert row["text"] == "a\ufffdb" and row["sender_name"] in ("a\ufffdb", "U0ALICE")
    # XML cannot carry a surrogate at all: WeCom's body is malformed, a 400
    assert await post(bot, "wecom", fp.wecom_message("a").replace(b"a", b"a\xed\xa0\x80", 1), fake_clock) == 400


async def test_nul_is_dropped(four_bot, fake_clock):
    assert await post(four_bot, "bridge", fp.bridge_message("a\x00b"), fake_clock) == 200
    assert stored(four_bot, "bridge")[0]["text"] == "ab"


@pytest.mark.parametrize("platform, body", [
    ("telegram", fp.telegram_message("hi", date=253402300000)),
    ("wecom", fp.wecom_message("hi", create_time=253402300000)),
    ("bridge", fp.bridge_message("hi", time="9999-12-31T23:59:59-12:00")),
    ("slack", fp.slack_message("hi", ts="253402300000.000100")),
])
async def test_time_near_year_9999_is_a_400(four_bot, fake_clock, platform, body):
    assert await post(four_bot, platform, body, fake_clock) == 400
    assert stored(four_bot, platform) == []


@pytest.mark.parametrize("text", [5, 1.5, True, [1, 2], {"a": 1}])
async def test_text_of_the_wrong_type_is_a_400_not_a_traceback_after_a_200(four_bot, fake_clock, caplog, text):
    assert await post(four_bot, "telegram", fp.telegram_message(text), fake_clock) == 400
    assert await post(four_bot, "slack", fp.slack_message(text), fake_clock) == 400
    assert await post(four_bot, "bridge", fp.bridge_message(text), fake_clock) == 400
    assert four_bot.live_rows() == []
    assert "Traceback" not in caplog.text and "failed" not in caplog.text


async def test_id_of_3000_characters_is_a_400(four_bot, fake_clock):
    assert await post(four_bot, "bridge", fp.bridge_message("hi", message_id="m" * 3000), fake_clock) == 400
    assert await post(four_bot, "wecom", fp.wecom_message("hi", msg_id="7" * 3000), fake_clock) == 400
    assert four_bot.live_rows() == []


async def test_slack_user_id_of_224965_characters_is_a_400(four_bot, fake_clock):
    assert await post(four_bot, "slack", fp.slack_message("hello", user="U" * 224_965), fake_clock) == 400
    assert four_bot.member_rows() == []


async def test_name_of_237k_characters_is_cut_at_the_boundary(four_bot, fake_clock):
    name = "长" * 237_000
    assert await post(four_bot, "telegram", fp.telegram_message("hi", user={"id": 8, "first_name": name}),
                      fake_clock) == 200
    [member] = four_bot.member_rows()
    assert len(member["display_name"]) == MAX_NAME and member["display_name"].endswith("…")


def test_digest_cuts_a_237k_character_name_from_the_archive():
    zone = dt.timezone(dt.timedelta(hours=8))
    name = "长" * 237_000
    day = Day("g", dt.date(2026, 11, 25), "t", "a", messages=[
        Message(dt.datetime(2026, 11, 25, 9, 0, tzinfo=zone), name, "备付金怎么对账？"),
        Message(dt.datetime(2026, 11, 25, 9, 1, tzinfo=zone), "李四-某司-产品-上海", "按日对账，T+1 出文件。")])
    text = render(build_digest(day))
    assert len(text) < 2_000


async def test_join_listing_one_user_twice_with_a_surrogate_name_is_welcomed_once(four_bot, telegram_api, fake_clock):
    user = {"id": 9, "is_bot": False, "first_name": LONE}
    update = {"update_id": 5, "message": {"message_id": 5, "date": 1764000000,
                                          "chat": {"id": int(fp.CHATS["telegram"]), "type": "supergroup"},
                                          "from": user, "new_chat_members": [user, user]}}
    assert await post(four_bot, "telegram", update, fake_clock) == 200
    [welcome] = telegram_api.sent()
    assert welcome["text"].count("tg://user?id=9") == 1 and "a\ufffdb" in welcome["text"]


async def test_text_past_the_limit_is_stored_cut(four_bot, fake_clock):
    assert await post(four_bot, "bridge", fp.bridge_message("问" * 300_000), fake_clock) == 200
    [row] = stored(four_bot, "bridge")
    assert len(row["text"]) == MAX_TEXT


def test_question_key_cache_does_not_hold_long_questions():
    before = _cached_key.cache_info().currsize
    keys = {question_key(f"{n}问" * 150_000) for n in range(150)}
    assert len(keys) == 150 and _cached_key.cache_info().currsize == before
    assert question_key("A?") == question_key("a ！") == "a"


async def test_wecom_callback_ten_days_old_is_refused_like_the_bridges(four_bot, fake_clock):
    body = fp.wecom_message("备付金怎么对账？")
    query, headers, raw = fp.signed("wecom", body, fake_clock.now - 10 * 86400)
    response = await four_bot.client.post("/webhook/wecom", params=query, data=raw, headers=headers)
    assert response.status == 401 and four_bot.live_rows() == []
    assert await post(four_bot, "wecom", body, fake_clock) == 200  # the same callback, fresh


@pytest.mark.parametrize("command", ["/digest", "/names", "/日报", "/昵称"])
async def test_admin_commands_refuse_non_admins(make_bot, telegram_api, tmp_path, fake_clock, command):
    from handlers.admin import REFUSAL

    chats = [{"platform": "telegram", "chat_id": fp.CHATS["telegram"], "group": GROUP, "admins": ["999"]}]
    raw = base_config(tmp_path, platforms={"telegram": fp.platforms_section(telegram_api=telegram_api.url)["telegram"]},
                      chats=chats)
    bot = await make_bot(raw, load_answers=False)
    entity = [{"type": "bot_command", "offset": 0, "length": len(command.encode("utf-16-le")) // 2}]
    outsider = fp.telegram_message(command, user={"id": 501, "first_name": "Mallory"}, entities=entity)
    assert await post(bot, "telegram", outsider, fake_clock) == 200
    assert [sent["text"] for sent in telegram_api.sent()] == [REFUSAL]
    admin = fp.telegram_message(command, message_id=2, update_id=2, user={"id": 999, "first_name": "Admin"},
                                entities=entity)
    assert await post(bot, "telegram", admin, fake_clock) == 200
    assert REFUSAL not in [sent["text"] for sent in telegram_api.sent()[1:]]
    assert len(telegram_api.sent()) >= 2  # the admin got the job's post or its answer
