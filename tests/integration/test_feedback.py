"""Feedback on answers through each platform's real webhook and fake API: the answer log records the
bot's own message ids, reactions and replies on them are stored once per member, and a unit marked
wrong is not posted unprompted again for the question or a paraphrase in that chat."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from bot.store import answers as answer_log
from bot.store.schema import answer_feedback, answer_messages, answers
from tests.integration.conftest import (
    GROUP, TELEGRAM_CHAT, base_config, post_telegram, telegram_section, tg_update,
)
from tests.integration.test_platforms_e2e import (
    BRIDGE_CHAT, SLACK_CHANNEL, SLACK_SECRET, bridge_message, post_bridge, post_slack, slack_event,
)
from tests.fakes.bridge_callback import BRIDGE_SECRET
from tests.fakes.slack_api import BOT_TOKEN as SLACK_TOKEN

QUESTION = "财付通的哪些业务算发卡行的功能？"  # answered unprompted from the bundled sample day
PARAPHRASE = "财付通哪些业务算是发卡行的功能呢？"
NO_COOLDOWN = {"cooldown_seconds": 0}  # silence below comes from the feedback, not the cool-down


def rows(bot, table):
    with bot.services.db.connect() as conn:
        return conn.execute(select(table)).mappings().all()


def tg_reaction(message_id: int, user_id: int, new: list[str], old: list[str] = (), update_id: int = 90_001) -> dict:
    return {"update_id": update_id, "message_reaction": {
        "chat": {"id": int(TELEGRAM_CHAT), "type": "supergroup", "title": "Test group"},
        "message_id": message_id, "user": {"id": user_id, "is_bot": False, "first_name": f"M{user_id}"},
        "date": 1764036000, "old_reaction": [{"type": "emoji", "emoji": e} for e in old],
        "new_reaction": [{"type": "emoji", "emoji": e} for e in new]}}


@pytest.fixture
async def tg_bot(make_bot, telegram_api, tmp_path):
    raw = base_config(tmp_path, answer=NO_COOLDOWN, platforms={"telegram": telegram_section(telegram_api)},
                      chats=[{"platform": "telegram", "chat_id": TELEGRAM_CHAT, "group": GROUP}])
    return await make_bot(raw)


async def test_telegram_answer_logged_with_its_message_id_and_reactions_counted_once(tg_bot, telegram_api):
    question = tg_update(QUESTION, user_id=321, name="Grace")
    await post_telegram(tg_bot.client, question)
    assert len(telegram_api.sent()) == 1
    [logged] = rows(tg_bot, answers)
    assert logged["kind"] == "answer" and logged["question"] == QUESTION and not logged["prompted"]
    assert logged["question_message_id"] == str(question["message"]["message_id"])
    assert logged["unit"] == f"exchange:{GROUP}:2018-02-28:4" and 0 < logged["score"] <= 1
    [bot_message] = rows(tg_bot, answer_messages)
    assert bot_message["message_id"] == "1001"  # the id the fake Bot API gave the reply

    for update_id in (1, 2):  # a re-delivered update changes nothing
        assert (await post_telegram(tg_bot.client, tg_reaction(1001, 77, ["👍"], update_id=update_id))).status == 200
    await post_telegram(tg_bot.client, tg_reaction(1001, 78, ["🤔"]))  # means nothing: ignored
    assert [(f["member_id"], f["verdict"], f["source"]) for f in rows(tg_bot, answer_feedback)] == [
        ("77", 1, "reaction")]
    await post_telegram(tg_bot.client, tg_reaction(1001, 77, ["👎"], old=["👍"]))  # changes their mind
    await post_telegram(tg_bot.client, tg_reaction(1001, 79, ["👎"]))
    counts = answer_log.counts(tg_bot.services.db, "telegram", TELEGRAM_CHAT)
    assert (counts.answers, counts.right, counts.wrong) == (1, 0, 2)
    await post_telegram(tg_bot.client, tg_reaction(1001, 79, [], old=["👎"]))  # takes it back
    assert [(f["member_id"], f["verdict"]) for f in rows(tg_bot, answer_feedback)] == [("77", -1)]


async def test_telegram_wrong_reply_stops_the_answer_for_the_question_and_a_paraphrase(tg_bot, telegram_api):
    await post_telegram(tg_bot.client, tg_update(QUESTION, user_id=321))
    await post_telegram(tg_bot.client, tg_update(QUESTION, user_id=322))  # no feedback yet: answered again
    await post_telegram(tg_bot.client, tg_update(PARAPHRASE, user_id=326))  # and its paraphrase too
    assert len(telegram_api.sent()) == 3
    reply = {"message_id": 1002, "date": 0, "chat": {"id": int(TELEGRAM_CHAT), "type": "supergroup"},
             "from": {"id": 1, "is_bot": True, "first_name": "Archive", "username": "ArchiveTestBot"}, "text": "…"}
    await post_telegram(tg_bot.client, tg_update("不对，应该是看发卡机构的资质", user_id=400, reply_to_message=reply))
    assert [(f["member_id"], f["verdict"], f["source"]) for f in rows(tg_bot, answer_feedback)] == [
        ("400", -1, "reply")]
    sent_before = len(telegram_api.sent())
    await post_telegram(tg_bot.client, tg_update(QUESTION, user_id=323))
    await post_telegram(tg_bot.client, tg_update(PARAPHRASE, user_id=324))
    assert len(telegram_api.sent()) == sent_before  # neither the question nor its paraphrase
    await post_telegram(tg_bot.client, tg_update(f"/ask {QUESTION}", user_id=325))  # asked outright: it may still
    assert len(telegram_api.sent()) == sent_before + 1


async def test_wrong_and_right_commands_as_replies(tg_bot, telegram_api):
    await post_telegram(tg_bot.client, tg_update("/wrong", user_id=5))
    assert "回复机器人的某条回答" in telegram_api.sent()[-1]["text"]
    await post_telegram(tg_bot.client, tg_update(QUESTION, user_id=321))
    bot_reply = {"message_id": 1002, "date": 0, "chat": {"id": int(TELEGRAM_CHAT), "type": "supergroup"},
                 "from": {"id": 1, "is_bot": True, "first_name": "Archive"}, "text": "…"}
    await post_telegram(tg_bot.client, tg_update("/right", user_id=6, reply_to_message=bot_reply))
    await post_telegram(tg_bot.client, tg_update("/wrong", user_id=7, reply_to_message=bot_reply))
    assert telegram_api.sent()[-1]["text"] == "收到，谢谢反馈。"
    assert sorted((f["member_id"], f["verdict"], f["source"]) for f in rows(tg_bot, answer_feedback)) == [
        ("6", 1, "command"), ("7", -1, "command")]


# -- Slack ------------------------------------------------------------------------------------------
@pytest.fixture
async def slack_bot(make_bot, slack_api, tmp_path):
    raw = base_config(tmp_path, answer=NO_COOLDOWN, platforms={"slack": {
        "signing_secret": SLACK_SECRET, "bot_token": SLACK_TOKEN, "bot_user_id": "UARCHBOT1",
        "api_base": slack_api.api_base}},
        chats=[{"platform": "slack", "chat_id": SLACK_CHANNEL, "group": GROUP}])
    return await make_bot(raw)


def slack_reaction(kind: str, ts: str, user: str, name: str, event_id: str) -> dict:
    return {"token": "x", "team_id": "T0", "api_app_id": "A0", "type": "event_callback", "event_id": event_id,
            "event_time": 1764000000, "event": {
                "type": kind, "user": user, "reaction": name, "item_user": "UARCHBOT1",
                "item": {"type": "message", "channel": SLACK_CHANNEL, "ts": ts}, "event_ts": "1764000100.000200"}}


async def test_slack_reactions_and_thread_reply(slack_bot, slack_api, fake_clock):
    await post_slack(slack_bot, slack_event(QUESTION, ts="1764000000.000100"), fake_clock)
    [answer] = slack_api.posted()
    [bot_message] = rows(slack_bot, answer_messages)
    ts = bot_message["message_id"]
    assert ts.startswith("1700000000.")  # the ts chat.postMessage returned
    added = slack_reaction("reaction_added", ts, "U0BOB", "thumbsup", "Ev10")
    assert (await post_slack(slack_bot, added, fake_clock)).status == 200
    await post_slack(slack_bot, slack_reaction("reaction_added", ts, "U0CAROL", "-1", "Ev11"), fake_clock)
    assert sorted((f["member_id"], f["verdict"]) for f in rows(slack_bot, answer_feedback)) == [
        ("U0BOB", 1), ("U0CAROL", -1)]
    await post_slack(slack_bot, slack_reaction("reaction_removed", ts, "U0BOB", "thumbsup", "Ev12"), fake_clock)
    # A reply in the question's thread saying it is wrong counts for the answer in that thread.
    await post_slack(slack_bot, slack_event("答非所问", ts="1764000200.000300", user="U0DAN", event_id="Ev13",
                                            thread_ts="1764000000.000100"), fake_clock)
    assert sorted((f["member_id"], f["verdict"], f["source"]) for f in rows(slack_bot, answer_feedback)) == [
        ("U0CAROL", -1, "reaction"), ("U0DAN", -1, "reply")]
    await post_slack(slack_bot, slack_event(QUESTION, ts="1764000300.000400", event_id="Ev14"), fake_clock)
    assert len(slack_api.posted()) == 1  # flagged wrong: not posted again


# -- bridge -----------------------------------------------------------------------------------------
@pytest.fixture
async def bridge_bot(make_bot, bridge_callback, tmp_path):
    raw = base_config(tmp_path, answer=NO_COOLDOWN, platforms={"bridge": {
        "secret": BRIDGE_SECRET, "callback_url": bridge_callback.callback_url}},
        chats=[{"platform": "bridge", "chat_id": BRIDGE_CHAT, "group": GROUP}])
    return await make_bot(raw)


def bridge_reaction(message_id: str, member: str, emoji, removed=False) -> dict:
    return {"type": "reaction", "chat_id": BRIDGE_CHAT, "message_id": message_id,
            "member": {"id": member, "name": f"成员-{member}"}, "emoji": emoji, "removed": removed,
            "time": 1764037100}


async def test_bridge_reaction_events_and_hostile_ones(bridge_bot, bridge_callback, fake_clock):
    await post_bridge(bridge_bot, bridge_message(QUESTION, "m-1"), fake_clock)
    [bot_message] = rows(bridge_bot, answer_messages)
    wx = bot_message["message_id"]
    assert wx.startswith("wx-")  # the id the bridge answered with
    assert (await post_bridge(bridge_bot, bridge_reaction(wx, "wxid_bob", "👎"), fake_clock)).status == 200
    assert (await post_bridge(bridge_bot, bridge_reaction(wx, "wxid_bob", "👎"), fake_clock)).status == 200
    for bad in (bridge_reaction(wx, "wxid_x", ["👎"]), bridge_reaction(wx, "wxid_x", "👎", removed="yes"),
                {**bridge_reaction(wx, "wxid_x", "👎"), "member": 3}, {**bridge_reaction(wx, "wxid_x", "👎"), "time": 9e99}):
        assert (await post_bridge(bridge_bot, bad, fake_clock)).status == 400
    long = await post_bridge(bridge_bot, bridge_reaction(wx, "wxid_y", "👎" * 100_000), fake_clock)
    assert long.status == 200  # cut to 64 characters at the boundary: no reaction the bot knows
    assert [(f["member_id"], f["verdict"]) for f in rows(bridge_bot, answer_feedback)] == [("wxid_bob", -1)]
    await post_bridge(bridge_bot, bridge_message(PARAPHRASE, "m-2"), fake_clock)
    assert len(bridge_callback.posted()) == 1
    body = json.dumps(bridge_reaction(wx, "wxid_bob", "👎", removed=True)).encode()
    assert (await post_bridge(bridge_bot, body, fake_clock)).status == 200
    assert rows(bridge_bot, answer_feedback) == []


async def test_stats_reports_answers_and_feedback(tg_bot, telegram_api):
    await post_telegram(tg_bot.client, tg_update("/stats", user_id=5))
    assert "还没有回答过问题" in telegram_api.sent()[-1]["text"]
    await post_telegram(tg_bot.client, tg_update(QUESTION, user_id=321))
    await post_telegram(tg_bot.client, tg_reaction(1002, 77, ["👍"]))
    await post_telegram(tg_bot.client, tg_update("/stats", user_id=5))
    assert "机器人回答了 1 个问题；收到反馈：有用 1，不对 0。" in telegram_api.sent()[-1]["text"]
