"""Slack, WeCom and the bridge end to end: signed requests in over HTTP, replies out to each fake."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from bot.platforms import bridge as bridge_platform
from bot.platforms import slack as slack_platform
from bot.platforms import wecom as wecom_platform
from bot.platforms.text import utf8_bytes
from bot.router import Router
from bot.webhook import DISPATCHER
from tests.fakes.bridge_callback import BRIDGE_SECRET
from tests.fakes.slack_api import BOT_TOKEN as SLACK_TOKEN
from tests.integration.conftest import GROUP, base_config

PARAPHRASE = "财付通的哪些业务算发卡行的功能？"
ANSWERER = "张洋-旅付天下-技术-北京"
LONG_TEXT = "\n\n".join(f"{n}. " + "清算结算对账🙂备付金" * 25 for n in range(30))  # ~8,000 chars


def add_long_command(bot) -> None:
    """A command whose reply is digest-sized, routed like any handler's."""
    router = Router("test-long")

    @router.command("longtest")
    async def long_reply(ctx):
        """a digest-size reply"""
        await ctx.reply(LONG_TEXT)

    bot.app[DISPATCHER].router.include(router)


def joined_without_breaks(parts: list[str]) -> str:
    return "".join(parts).replace("\n", "").replace(" ", "")


# -- Slack ----------------------------------------------------------------------------------------
SLACK_SECRET = "slack-signing-secret-for-tests"
SLACK_CHANNEL = "C0PAYMENTS"


@pytest.fixture
async def slack_bot(make_bot, slack_api, tmp_path):
    raw = base_config(tmp_path, platforms={"slack": {
        "signing_secret": SLACK_SECRET, "bot_token": SLACK_TOKEN, "bot_user_id": "UARCHBOT1",
        "api_base": slack_api.api_base}},
        chats=[{"platform": "slack", "chat_id": SLACK_CHANNEL, "group": GROUP}])
    return await make_bot(raw)


def slack_event(text: str, *, ts: str = "1764000000.000100", user: str = "U0ALICE", event_id: str = "Ev01",
                **extra) -> dict:
    return {"token": "x", "team_id": "T0", "api_app_id": "A0", "type": "event_callback", "event_id": event_id,
            "event_time": 1764000000, "event": {"type": "message", "channel": SLACK_CHANNEL, "user": user,
                                                 "text": text, "ts": ts, "channel_type": "channel", **extra}}


async def post_slack(bot, body: dict | bytes, clock, *, age: float = 0, secret: str = SLACK_SECRET,
                     ctype: str = "application/json", **headers):
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    timestamp = str(int(clock.now - age))
    return await bot.client.post("/webhook/slack", data=raw, headers={
        "Content-Type": ctype, "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": slack_platform.sign(secret, timestamp, raw), **headers})


async def test_slack_question_answered_in_thread_with_mention(slack_bot, slack_api, fake_clock):
    response = await post_slack(slack_bot, slack_event(PARAPHRASE, ts="1764000000.000200"), fake_clock)
    assert response.status == 200
    [posted] = slack_api.posted()
    assert posted["channel"] == SLACK_CHANNEL and posted["thread_ts"] == "1764000000.000200"
    assert posted["text"].startswith("<@U0ALICE> ") and ANSWERER in posted["text"]


async def test_slack_forged_and_stale_signatures_rejected(slack_bot, slack_api, fake_clock):
    assert (await post_slack(slack_bot, slack_event(PARAPHRASE), fake_clock, secret="forged")).status == 401
    assert (await post_slack(slack_bot, slack_event(PARAPHRASE), fake_clock, age=301)).status == 401
    assert slack_bot.live_rows() == [] and slack_api.posted() == []


async def test_slack_retry_is_stored_once_and_answered_once(slack_bot, slack_api, fake_clock):
    event = slack_event(PARAPHRASE, ts="1764000000.000300", event_id="Ev02")
    await post_slack(slack_bot, event, fake_clock)
    await post_slack(slack_bot, event, fake_clock, **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    assert len(slack_bot.live_rows(platform="slack")) == 1
    assert len(slack_api.posted()) == 1


async def test_slack_url_verification_and_slash_command(slack_bot, slack_api, fake_clock):
    response = await post_slack(slack_bot, {"type": "url_verification", "challenge": "abc123"}, fake_clock)
    assert response.status == 200 and await response.text() == "abc123"
    form = urlencode({"command": "/ask", "text": PARAPHRASE, "user_id": "U0BOB", "user_name": "bob",
                      "channel_id": SLACK_CHANNEL, "trigger_id": "T-1"}).encode()
    response = await post_slack(slack_bot, form, fake_clock, ctype="application/x-www-form-urlencoded")
    assert response.status == 200
    assert ANSWERER in slack_api.posted()[-1]["text"]


async def test_slack_own_and_bot_messages_are_ignored(slack_bot, slack_api, fake_clock):
    await post_slack(slack_bot, slack_event(PARAPHRASE, ts="1.1", user="UARCHBOT1", bot_id="B1"), fake_clock)
    await post_slack(slack_bot, slack_event(PARAPHRASE, ts="1.2", user="UOTHER", bot_id="B2", event_id="Ev3"),
                     fake_clock)
    assert slack_api.posted() == []


async def test_slack_long_reply_split_at_its_limit(slack_bot, slack_api, fake_clock):
    add_long_command(slack_bot)
    await post_slack(slack_bot, slack_event("/longtest", ts="1764000000.000400"), fake_clock)
    parts = [p["text"] for p in slack_api.posted()]
    assert len(parts) >= 2 and all(len(p) <= slack_platform.MAX_TEXT for p in parts)
    assert joined_without_breaks(parts) == joined_without_breaks([LONG_TEXT])
    assert {p["thread_ts"] for p in slack_api.posted()} == {"1764000000.000400"}


async def test_slack_bad_bodies_are_4xx(slack_bot, fake_clock):
    assert (await post_slack(slack_bot, b"{oops", fake_clock)).status == 400
    assert (await post_slack(slack_bot, b"a=%zz", fake_clock, ctype="application/x-www-form-urlencoded")).status == 400
    assert (await post_slack(slack_bot, {"type": "event_callback"}, fake_clock)).status == 400
    assert (await post_slack(slack_bot, b"<xml/>", fake_clock, ctype="text/xml")).status == 415


# -- WeCom ----------------------------------------------------------------------------------------
WECOM_TOKEN = "QDG6eK"
WECOM_AES = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
WECOM_CORP = "wx5823bf96d3bd56c7"
WECOM_CHAT = "wrGroupPay01"


@pytest.fixture
async def wecom_bot(make_bot, wecom_robot, tmp_path):
    raw = base_config(tmp_path, platforms={"wecom": {
        "token": WECOM_TOKEN, "encoding_aes_key": WECOM_AES, "corp_id": WECOM_CORP,
        "robot_webhook_url": wecom_robot.webhook_url}},
        chats=[{"platform": "wecom", "chat_id": WECOM_CHAT, "group": GROUP}])
    return await make_bot(raw)


def wecom_inner(content: str, msg_id: str = "7211234567890123456", user: str = "zhangsan") -> bytes:
    fields = {"ToUserName": WECOM_CORP, "FromUserName": user, "CreateTime": "1764000000", "MsgType": "text",
              "Content": content, "MsgId": msg_id, "AgentID": "1000002", "ChatId": WECOM_CHAT}
    return ("<xml>" + "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in fields.items()) + "</xml>").encode()


async def post_wecom(bot, inner: bytes, *, token: str = WECOM_TOKEN):
    key = wecom_platform.aes_key(WECOM_AES)
    encrypted = wecom_platform.encrypt(key, inner, WECOM_CORP)
    body = (f"<xml><ToUserName><![CDATA[{WECOM_CORP}]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt>"
            f"<AgentID><![CDATA[1000002]]></AgentID></xml>").encode()
    query = {"msg_signature": wecom_platform.signature(token, "1700000000", "nonce1", encrypted),
             "timestamp": "1700000000", "nonce": "nonce1"}
    return await bot.client.post("/webhook/wecom", params=query, data=body, headers={"Content-Type": "text/xml"})


async def test_wecom_question_answered_through_the_robot_with_mention(wecom_bot, wecom_robot):
    assert (await post_wecom(wecom_bot, wecom_inner(PARAPHRASE))).status == 200
    [posted] = wecom_robot.posted()
    # Answers use WeCom markdown (bold speakers, links); a markdown message mentions with <@userid>.
    assert posted["msgtype"] == "markdown" and f"**{ANSWERER}**" in posted["markdown"]["content"]
    assert posted["markdown"]["content"].startswith("<@zhangsan> ")


async def test_wecom_url_verification_echoes_the_decrypted_echostr(wecom_bot):
    key = wecom_platform.aes_key(WECOM_AES)
    echo = wecom_platform.encrypt(key, b"echo-4711", WECOM_CORP)
    query = {"msg_signature": wecom_platform.signature(WECOM_TOKEN, "1700000000", "n2", echo),
             "timestamp": "1700000000", "nonce": "n2", "echostr": echo}
    response = await wecom_bot.client.get("/webhook/wecom", params=query)
    assert response.status == 200 and await response.text() == "echo-4711"
    query["msg_signature"] = "0" * 40
    assert (await wecom_bot.client.get("/webhook/wecom", params=query)).status == 401


async def test_wecom_forged_signature_rejected_and_duplicates_once(wecom_bot, wecom_robot):
    assert (await post_wecom(wecom_bot, wecom_inner(PARAPHRASE), token="forged")).status == 401
    assert wecom_bot.live_rows() == []
    for _ in range(2):
        assert (await post_wecom(wecom_bot, wecom_inner(PARAPHRASE, msg_id="99"))).status == 200
    assert len(wecom_bot.live_rows(platform="wecom")) == 1 and len(wecom_robot.posted()) == 1


async def test_wecom_long_reply_split_at_2048_bytes(wecom_bot, wecom_robot):
    add_long_command(wecom_bot)
    await post_wecom(wecom_bot, wecom_inner("/longtest", msg_id="100"))
    parts = [p["text"]["content"] for p in wecom_robot.posted()]
    assert len(parts) >= 10 and all(utf8_bytes(p) <= 2048 for p in parts)
    assert joined_without_breaks(parts) == joined_without_breaks([LONG_TEXT])


async def test_wecom_garbage_is_4xx(wecom_bot):
    client = wecom_bot.client
    assert (await client.post("/webhook/wecom", data=b"<xml>", headers={"Content-Type": "text/xml"})).status == 401
    assert (await client.post("/webhook/wecom", json={"a": 1})).status == 415


# -- bridge ---------------------------------------------------------------------------------------
BRIDGE_CHAT = "20001234@chatroom"


@pytest.fixture
async def bridge_bot(make_bot, bridge_callback, tmp_path):
    raw = base_config(tmp_path, platforms={"bridge": {"secret": BRIDGE_SECRET,
                                                      "callback_url": bridge_callback.callback_url}},
                      chats=[{"platform": "bridge", "chat_id": BRIDGE_CHAT, "group": GROUP}])
    return await make_bot(raw)


def bridge_message(text: str, message_id: str = "msg-1", **extra) -> dict:
    return {"type": "message", "chat_id": BRIDGE_CHAT, "message_id": message_id,
            "sender": {"id": "wxid_alice", "name": "爱丽丝-支付-上海", "is_bot": False}, "text": text,
            "time": "2026-11-25T10:15:00+08:00", **extra}


async def post_bridge(bot, body: dict | bytes, clock, *, age: float = 0, secret: str = BRIDGE_SECRET):
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    timestamp = str(int(clock.now - age))
    return await bot.client.post("/webhook/bridge", data=raw, headers={
        "Content-Type": "application/json", "X-Bridge-Timestamp": timestamp,
        "X-Bridge-Signature": bridge_platform.sign(secret, timestamp, raw)})


async def test_bridge_question_answered_with_reply_to_and_mention(bridge_bot, bridge_callback, fake_clock):
    assert (await post_bridge(bridge_bot, bridge_message(PARAPHRASE, "m-7"), fake_clock)).status == 200
    [posted] = bridge_callback.posted()
    assert posted["chat_id"] == BRIDGE_CHAT and posted["reply_to"] == "m-7"
    assert posted["mentions"] == [{"id": "wxid_alice", "name": "爱丽丝-支付-上海"}]
    assert ANSWERER in posted["text"]


async def test_bridge_forged_stale_and_duplicate(bridge_bot, bridge_callback, fake_clock):
    assert (await post_bridge(bridge_bot, bridge_message(PARAPHRASE), fake_clock, secret="x")).status == 401
    assert (await post_bridge(bridge_bot, bridge_message(PARAPHRASE), fake_clock, age=301)).status == 401
    assert bridge_bot.live_rows() == []
    for _ in range(3):
        assert (await post_bridge(bridge_bot, bridge_message(PARAPHRASE, "m-8"), fake_clock)).status == 200
    assert len(bridge_bot.live_rows(platform="bridge")) == 1 and len(bridge_callback.posted()) == 1


async def test_bridge_long_reply_split_at_2000_chars(bridge_bot, bridge_callback, fake_clock):
    add_long_command(bridge_bot)
    await post_bridge(bridge_bot, bridge_message("/longtest", "m-9"), fake_clock)
    parts = [p["text"] for p in bridge_callback.posted()]
    assert len(parts) >= 4 and all(len(p) <= 2000 for p in parts)
    assert joined_without_breaks(parts) == joined_without_breaks([LONG_TEXT])
    assert {p["reply_to"] for p in bridge_callback.posted()} == {"m-9"}


async def test_bridge_bad_bodies_are_4xx(bridge_bot, fake_clock):
    assert (await post_bridge(bridge_bot, b"not json", fake_clock)).status == 400
    assert (await post_bridge(bridge_bot, {"type": "message", "chat_id": BRIDGE_CHAT}, fake_clock)).status == 400
    assert (await post_bridge(bridge_bot, bridge_message(PARAPHRASE, time="yesterday"), fake_clock)).status == 400
    assert (await post_bridge(bridge_bot, {"type": "unknown_kind"}, fake_clock)).status == 200
