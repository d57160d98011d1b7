"""Slack adapter: v0 signatures with a replay window, event parsing, sending through the fake Web API."""

from __future__ import annotations

import json
import re
from urllib.parse import urlencode

import pytest

from bot.chat import Member, Outgoing
from bot.config import SlackSection
from bot.platforms.base import Rejected, Request
from bot.platforms.pacing import SendFailed
from bot.platforms.slack import SlackAdapter, plain_text, sign
from tests.fakes.slack_api import BOT_TOKEN

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_USER = "UARCHBOT1"


def section(api_base: str = "http://127.0.0.1:9") -> SlackSection:
    return SlackSection(signing_secret=SIGNING_SECRET, bot_token=BOT_TOKEN, bot_user_id=BOT_USER,
                        api_base=api_base)


def signed(body: dict | bytes, now: float, *, secret: str = SIGNING_SECRET, age: float = 0,
           ctype: str = "application/json", **headers: str) -> Request:
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    timestamp = str(int(now - age))
    return Request("POST", "/webhook/slack", {}, {"Content-Type": ctype, "X-Slack-Request-Timestamp": timestamp,
                                                  "X-Slack-Signature": sign(secret, timestamp, raw), **headers}, raw)


def envelope(event: dict, event_id: str = "Ev0TESTAAA1") -> dict:
    return {"token": "legacy", "team_id": "T0TEST", "api_app_id": "A0TEST", "type": "event_callback",
            "event_id": event_id, "event_time": 1700000000, "event": event}


def message(text: str, **extra) -> dict:
    return {"type": "message", "channel": "C0PAYMENTS", "user": "U0ALICE", "text": text,
            "ts": "1700000000.000100", "channel_type": "channel", **extra}


@pytest.fixture
def adapter(http, fake_clock):
    return SlackAdapter(section(), http, clock=fake_clock, sleep=fake_clock.sleep)


@pytest.fixture
def live(http, fake_clock, slack_api):
    return SlackAdapter(section(slack_api.api_base), http, clock=fake_clock, sleep=fake_clock.sleep)


# -- verify ---------------------------------------------------------------------------------

def test_signature_accepted_within_the_window(adapter, fake_clock):
    adapter.verify(signed(envelope(message("hi")), fake_clock.now))
    adapter.verify(signed(envelope(message("hi")), fake_clock.now, age=299))


# Slack's worked example in "Verifying requests from Slack" (api.slack.com/authentication/
# verifying-requests-from-slack): its signing secret, timestamp, slash-command body and signature.
DOC_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
DOC_TIMESTAMP = "1531420618"
DOC_BODY = (b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
            b"&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
            b"&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
            b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c")
DOC_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"


def test_slacks_published_signature_example(http):
    assert sign(DOC_SECRET, DOC_TIMESTAMP, DOC_BODY) == DOC_SIGNATURE
    adapter = SlackAdapter(SlackSection(signing_secret=DOC_SECRET, bot_token="xoxb-test"), http,
                           clock=lambda: int(DOC_TIMESTAMP) + 60)
    request = Request("POST", "/webhook/slack", {}, {"X-Slack-Request-Timestamp": DOC_TIMESTAMP,
                                                     "X-Slack-Signature": DOC_SIGNATURE,
                                                     "Content-Type": "application/x-www-form-urlencoded"}, DOC_BODY)
    adapter.verify(request)  # the published request is authentic a minute after it was sent
    forged = Request("POST", "/webhook/slack", {}, {**request.headers, "X-Slack-Signature": DOC_SIGNATURE[:-1] + "0"},
                     DOC_BODY)
    with pytest.raises(Rejected):
        adapter.verify(forged)


@pytest.mark.parametrize("case", ["forged", "stale", "future", "no-signature", "no-timestamp", "bad-timestamp",
                                  "tampered"])
def test_signature_rejected(adapter, fake_clock, case):
    req = signed(envelope(message("hi")), fake_clock.now)
    headers = dict(req.headers)
    body = req.body
    if case == "forged":
        req = signed(envelope(message("hi")), fake_clock.now, secret="not-the-secret")
    elif case == "stale":
        req = signed(envelope(message("hi")), fake_clock.now, age=301)
    elif case == "future":
        req = signed(envelope(message("hi")), fake_clock.now, age=-400)
    elif case == "no-signature":
        del headers["X-Slack-Signature"]
    elif case == "no-timestamp":
        del headers["X-Slack-Request-Timestamp"]
    elif case == "bad-timestamp":
        headers["X-Slack-Request-Timestamp"] = "yesterday"
    elif case == "tampered":
        body = body.replace(b"hi", b"ho")
    if case in ("no-signature", "no-timestamp", "bad-timestamp", "tampered"):
        req = Request("POST", "/webhook/slack", {}, headers, body)
    with pytest.raises(Rejected) as info:
        adapter.verify(req)
    assert info.value.status == 401


# -- parse ----------------------------------------------------------------------------------

def test_url_verification_echoes_the_challenge(adapter, fake_clock):
    req = signed({"token": "x", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
                  "type": "url_verification"}, fake_clock.now)
    adapter.verify(req)
    parsed = adapter.parse(req)
    assert parsed.response_body == b"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    assert parsed.messages == () and parsed.response_type == "text/plain"


def test_channel_message_with_mentions_and_markup(adapter, fake_clock):
    text = "问下 <@U0BOB|bob> 和 <@U0CAROL> 关于 &lt;清算&gt; 见 <https://example.org/x|文档> <#C0GEN|general>"
    parsed = adapter.parse(signed(envelope(message(text)), fake_clock.now, **{"X-Slack-Retry-Num": "1"}))
    assert parsed.delivery_id == "Ev0TESTAAA1" and parsed.extra["retry"] == 1
    (msg,) = parsed.messages
    assert (msg.platform, msg.chat_id, msg.message_id) == ("slack", "C0PAYMENTS", "1700000000.000100")
    assert msg.mentions == (Member("U0BOB", "bob"), Member("U0CAROL", "U0CAROL"))
    assert msg.text == "问下 @bob 和 @U0CAROL 关于 <清算> 见 文档 #general"
    assert not msg.addressed and msg.command is None and msg.thread_id is None
    assert msg.time.timestamp() == pytest.approx(1700000000.0001)


def test_commands_mentions_of_the_bot_and_threads(adapter, fake_clock):
    (msg,) = adapter.parse(signed(envelope(message("/search 备付金 清算")), fake_clock.now)).messages
    assert (msg.command, msg.args, msg.addressed) == ("search", "备付金 清算", False)

    (msg,) = adapter.parse(signed(envelope(message(f"<@{BOT_USER}> /stats 本周")), fake_clock.now)).messages
    assert (msg.command, msg.args, msg.addressed) == ("stats", "本周", True)
    assert msg.mentions == ()

    mention = message(f"<@{BOT_USER}> 退款多久到账", thread_ts="1699999999.000001") | {"type": "app_mention"}
    (msg,) = adapter.parse(signed(envelope(mention), fake_clock.now)).messages
    assert msg.addressed and msg.thread_id == "1699999999.000001" and msg.reply_to == "1699999999.000001"
    assert msg.message_id == "1700000000.000100"  # same key as the twin `message` event

    (msg,) = adapter.parse(signed(envelope(message("/help", channel_type="im")), fake_clock.now)).messages
    assert msg.addressed and msg.command == "help"


def test_bots_edits_joins_and_ignored_subtypes(adapter, fake_clock):
    bot = {"type": "message", "subtype": "bot_message", "bot_id": "B0OTHER", "username": "Deploys",
           "text": "deployed", "ts": "1700000001.000200", "channel": "C0PAYMENTS"}
    (msg,) = adapter.parse(signed(envelope(bot), fake_clock.now)).messages
    assert msg.sender == Member("B0OTHER", "Deploys", True)

    edit = {"type": "message", "subtype": "message_changed", "channel": "C0PAYMENTS", "ts": "1700000002.0",
            "message": {"type": "message", "user": "U0ALICE", "text": "改正后", "ts": "1700000000.000100",
                        "edited": {"user": "U0ALICE", "ts": "1700000002.0"}}}
    (msg,) = adapter.parse(signed(envelope(edit), fake_clock.now)).messages
    assert msg.edited and msg.text == "改正后" and msg.message_id == "1700000000.000100"

    join = {"type": "member_joined_channel", "user": "U0NEW", "channel": "C0PAYMENTS", "channel_type": "C",
            "event_ts": "1700000003.000000"}
    (msg,) = adapter.parse(signed(envelope(join, "Ev0JOIN"), fake_clock.now)).messages
    assert msg.joined == (Member("U0NEW", "U0NEW"),) and msg.message_id == "join-Ev0JOIN"

    for ignored in (message("x", subtype="message_deleted"), message("x", subtype="channel_topic"),
                    {"type": "reaction_added", "user": "U0ALICE", "reaction": "thumbsup"}):
        parsed = adapter.parse(signed(envelope(ignored), fake_clock.now))
        assert parsed.messages == () and parsed.status == 200


def test_slash_command_form_post(adapter, fake_clock):
    form = urlencode({"command": "/search", "text": "备付金", "user_id": "U0ALICE", "user_name": "alice",
                      "channel_id": "C0PAYMENTS", "trigger_id": "13345224609.738474920.8088930838d88f008e0"})
    req = signed(form.encode(), fake_clock.now, ctype="application/x-www-form-urlencoded")
    adapter.verify(req)
    (msg,) = adapter.parse(req).messages
    assert (msg.command, msg.args, msg.chat_id, msg.sender.id) == ("search", "备付金", "C0PAYMENTS", "U0ALICE")


@pytest.mark.parametrize("body", [b"nope", b"[]", json.dumps({"type": "event_callback"}).encode(),
                                  json.dumps(envelope({"type": "message", "text": "no ts", "channel": "C1",
                                                       "user": "U1"})).encode(),
                                  json.dumps({"type": "url_verification"}).encode()])
def test_malformed_bodies_are_400(adapter, fake_clock, body):
    with pytest.raises(Rejected) as info:
        adapter.parse(signed(body, fake_clock.now))
    assert info.value.status == 400


def test_plain_text_unescapes_after_links():
    assert plain_text("a &amp;lt; b <mailto:x@y.z|mail> <!here>") == "a &lt; b mail @here"


# -- send -----------------------------------------------------------------------------------

async def test_thread_reply_with_mentions_and_escaping(live, slack_api):
    sent = await live.send(Outgoing(chat_id="C0PAYMENTS", text="见 <规则> & *说明*",
                                    mentions=(Member("U0BOB", "bob"),), reply_to="1700000000.000100"))
    (payload,) = slack_api.posted()
    assert payload["text"] == "<@U0BOB> 见 &lt;规则&gt; &amp; *说明*"
    assert payload["thread_ts"] == "1700000000.000100" and payload["channel"] == "C0PAYMENTS"
    assert slack_api.requests[0].headers["Authorization"] == f"Bearer {BOT_TOKEN}"
    assert sent.message_ids == ("1700000000.000001",)


async def test_markdown_links_become_slack_links(live, slack_api):
    await live.send(Outgoing(chat_id="C1", text="*今日* [归档](https://example.org/a?b=1&c=2)", markdown=True))
    assert slack_api.posted()[0]["text"] == "*今日* <https://example.org/a?b=1&amp;c=2|归档>"


async def test_long_text_split_at_4000_chars(live, slack_api):
    text = "\n".join(f"{n:03d}. 备付金🧧讨论，清算机构👍🏽回复。" * 4 for n in range(150))
    assert len(text) > 10_000
    sent = await live.send(Outgoing(chat_id="C1", text=text))
    parts = [p["text"] for p in slack_api.posted()]
    assert len(parts) == len(sent.message_ids) >= 3
    assert all(0 < len(p) <= 4000 for p in parts)
    assert re.sub(r"\s", "", "".join(parts)) == re.sub(r"\s", "", text)


async def test_429_retry_after_then_success(live, slack_api, fake_clock):
    slack_api.fail_next(429, 1, retry_after=5)
    await live.send(Outgoing(chat_id="C1", text="hello"))
    assert len(slack_api.requests) == 2 and 5 in fake_clock.sleeps


async def test_500_retried_with_a_bound_and_api_errors_not_retried(live, slack_api):
    slack_api.fail_next(503, 9)
    with pytest.raises(SendFailed):
        await live.send(Outgoing(chat_id="C1", text="hello"))
    assert len(slack_api.requests) == 4

    slack_api.reset()
    with pytest.raises(SendFailed) as info:
        await live.send(Outgoing(chat_id="", text="hello"))
    assert "channel_not_found" in str(info.value) and len(slack_api.requests) == 1


async def test_image_upload_uses_the_external_upload_flow(live, slack_api):
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    sent = await live.send(Outgoing(chat_id="C1", text="", image_png=png, image_caption="本周图表",
                                    thread_id="1700000000.000100"))
    paths = [r.path for r in slack_api.requests]
    assert paths[0] == "/api/files.getUploadURLExternal" and paths[1].startswith("/upload/")
    assert paths[2] == "/api/files.completeUploadExternal"
    assert slack_api.requests[0].form == {"filename": "chart.png", "length": str(len(png))}
    complete = slack_api.requests[2].json
    assert complete["channel_id"] == "C1" and complete["thread_ts"] == "1700000000.000100"
    assert slack_api.uploads[sent.message_ids[0]] == png


async def test_many_mentions_are_packed_within_the_limit(live, slack_api):
    people = tuple(Member(f"U{n:08d}", f"p{n}") for n in range(600))
    await live.send(Outgoing(chat_id="C1", text="请改群昵称", mentions=people))
    bodies = [p["text"] for p in slack_api.posted()]
    assert len(bodies) > 1 and all(len(b) <= 4000 for b in bodies)
    assert sum(b.count("<@U") for b in bodies) == 600 and bodies[-1].endswith("请改群昵称")
