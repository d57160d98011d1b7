"""Bridge adapter: HMAC signature + replay window, the JSON event types, signed replies to the fake callback."""

from __future__ import annotations

import hashlib
import hmac
import json
import re

import pytest

from bot.chat import Member, Outgoing
from bot.config import BridgeSection
from bot.platforms.base import Rejected, Request
from bot.platforms.bridge import BridgeAdapter, sign
from bot.platforms.pacing import SendFailed
from tests.fakes.bridge_callback import BRIDGE_SECRET


def section(callback: str = "", window: int = 300) -> BridgeSection:
    return BridgeSection(secret=BRIDGE_SECRET, callback_url=callback, window_seconds=window)


def signed(body: dict | bytes, now: float, *, age: float = 0, secret: str = BRIDGE_SECRET) -> Request:
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    ts = str(int(now - age))
    return Request("POST", "/webhook/bridge", {}, {"Content-Type": "application/json", "X-Bridge-Timestamp": ts,
                                                   "X-Bridge-Signature": sign(secret, ts, raw)}, raw)


def message(text: str = "请问备付金怎么对账", **extra) -> dict:
    return {"type": "message", "chat_id": "20001234@chatroom", "message_id": "msg-0001",
            "sender": {"id": "wxid_alice", "name": "爱丽丝-支付-上海", "is_bot": False}, "text": text,
            "time": "2026-11-25T10:15:00+08:00", **extra}


@pytest.fixture
def adapter(http, fake_clock):
    return BridgeAdapter(section(), http, clock=fake_clock, sleep=fake_clock.sleep)


@pytest.fixture
def live(http, fake_clock, bridge_callback):
    return BridgeAdapter(section(bridge_callback.callback_url), http, clock=fake_clock, sleep=fake_clock.sleep)


def test_signature_is_hmac_of_timestamp_dot_body():
    body = b'{"type":"message"}'
    assert sign("k", "1700000000", body) == "sha256=" + hmac.new(b"k", b"1700000000." + body,
                                                                 hashlib.sha256).hexdigest()


def test_verify_accepts_fresh_and_rejects_forged_stale_missing(adapter, fake_clock):
    adapter.verify(signed(message(), fake_clock.now))
    adapter.verify(signed(message(), fake_clock.now, age=300))
    bad = [signed(message(), fake_clock.now, secret="wrong"),
           signed(message(), fake_clock.now, age=301),
           signed(message(), fake_clock.now, age=-301)]
    good = signed(message(), fake_clock.now)
    bad.append(Request("POST", "/webhook/bridge", {}, {}, good.body))
    bad.append(Request("POST", "/webhook/bridge", {}, dict(good.headers) | {"X-Bridge-Timestamp": "-5"}, good.body))
    bad.append(Request("POST", "/webhook/bridge", {}, good.headers, good.body + b" "))
    for req in bad:
        with pytest.raises(Rejected) as info:
            adapter.verify(req)
        assert info.value.status == 401


def test_window_is_configurable(http, fake_clock):
    short = BridgeAdapter(section(window=10), http, clock=fake_clock, sleep=fake_clock.sleep)
    with pytest.raises(Rejected):
        short.verify(signed(message(), fake_clock.now, age=11))


def test_message_parsed(adapter, fake_clock):
    body = message("@档案馆\u2005/search 备付金 对账", addressed=True, reply_to="msg-0000",
                   mentions=[{"id": "wxid_archbot", "name": "档案馆"}, {"id": "wxid_bob", "name": "鲍勃"}])
    parsed = adapter.parse(signed(body, fake_clock.now))
    (msg,) = parsed.messages
    assert parsed.delivery_id == "msg-0001"
    assert (msg.platform, msg.chat_id, msg.message_id) == ("bridge", "20001234@chatroom", "msg-0001")
    assert msg.sender == Member("wxid_alice", "爱丽丝-支付-上海", False)
    assert (msg.command, msg.args, msg.addressed, msg.reply_to) == ("search", "备付金 对账", True, "msg-0000")
    assert msg.mentions[1] == Member("wxid_bob", "鲍勃")
    assert msg.time.isoformat() == "2026-11-25T10:15:00+08:00"

    (msg,) = adapter.parse(signed(message("普通聊天", time=1700000000), fake_clock.now)).messages
    assert msg.command is None and not msg.addressed and msg.time.timestamp() == 1700000000


def test_join_and_member_update(adapter, fake_clock):
    join = {"type": "join", "chat_id": "20001234@chatroom", "time": 1700000000,
            "members": [{"id": "wxid_new", "name": "新人"}, {"id": "wxid_new2", "name": "新人2"}]}
    parsed = adapter.parse(signed(join, fake_clock.now))
    (msg,) = parsed.messages
    assert msg.joined == (Member("wxid_new", "新人"), Member("wxid_new2", "新人2")) and msg.text == ""
    assert adapter.parse(signed(join, fake_clock.now)).messages[0].message_id == msg.message_id  # retry-stable

    rename = {"type": "member_update", "chat_id": "20001234@chatroom", "time": 1700000000,
              "member": {"id": "wxid_alice", "name": "爱丽丝-清算-北京"}}
    parsed = adapter.parse(signed(rename, fake_clock.now))
    assert parsed.messages == () and parsed.extra == {}
    (update,) = parsed.member_updates
    assert (update.platform, update.chat_id, update.member) == ("bridge", "20001234@chatroom",
                                                                Member("wxid_alice", "爱丽丝-清算-北京"))
    assert update.time.timestamp() == 1700000000

    assert adapter.parse(signed({"type": "typing", "chat_id": "x"}, fake_clock.now)).messages == ()


@pytest.mark.parametrize("body", [
    b"nope", b"[]", message(chat_id=""), message(message_id=None), message(sender="alice"),
    message(sender={"name": "no id"}), message(text=5), message(time="2026-11-25T10:15:00"),
    message(time="yesterday"), message(mentions="bob"), {"type": "join", "chat_id": "c", "members": []},
    {"type": "member_update", "chat_id": "c"},
])
def test_malformed_bodies_are_400(adapter, fake_clock, body):
    with pytest.raises(Rejected) as info:
        adapter.parse(signed(body, fake_clock.now))
    assert info.value.status == 400


async def test_reply_is_signed_and_carries_mentions_and_reply_to(live, bridge_callback):
    sent = await live.send(Outgoing(chat_id="20001234@chatroom", text="见群公告", reply_to="msg-0001",
                                    mentions=(Member("wxid_alice", "爱丽丝"),)))
    (body,) = bridge_callback.posted()  # the fake checked the signature itself (401 otherwise)
    assert body == {"chat_id": "20001234@chatroom", "text": "见群公告", "markdown": False,
                    "mentions": [{"id": "wxid_alice", "name": "爱丽丝"}], "reply_to": "msg-0001"}
    assert sent.message_ids == ("wx-1",)


async def test_wrong_secret_is_refused_by_the_callback(http, fake_clock, bridge_callback):
    wrong = BridgeAdapter(BridgeSection(secret="other", callback_url=bridge_callback.callback_url), http,
                          clock=fake_clock, sleep=fake_clock.sleep)
    with pytest.raises(SendFailed) as info:
        await wrong.send(Outgoing(chat_id="c", text="x"))
    assert info.value.status == 401 and len(bridge_callback.requests) == 1


async def test_long_text_split_at_2000(live, bridge_callback):
    text = "\n\n".join("。".join(f"第{n}段第{k}句🧧备付金👍🏽" for k in range(30)) for n in range(25))
    assert len(text) > 10_000
    await live.send(Outgoing(chat_id="c", text=text, mentions=(Member("u", "U"),)))
    parts = [b["text"] for b in bridge_callback.posted()]
    assert len(parts) > 5 and all(0 < len(p) <= 2000 for p in parts)
    assert re.sub(r"\s", "", "".join(parts)) == re.sub(r"\s", "", text)
    assert [bool(b["mentions"]) for b in bridge_callback.posted()] == [True] + [False] * (len(parts) - 1)


async def test_429_and_500(live, bridge_callback, fake_clock):
    bridge_callback.fail_next(429, 1, retry_after=4)
    await live.send(Outgoing(chat_id="c", text="x"))
    assert len(bridge_callback.requests) == 2 and 4 in fake_clock.sleeps

    bridge_callback.reset()
    bridge_callback.fail_next(500, 4)
    with pytest.raises(SendFailed):
        await live.send(Outgoing(chat_id="c", text="x"))
    assert len(bridge_callback.requests) == 4


async def test_image(live, bridge_callback):
    await live.send(Outgoing(chat_id="c", text="", image_png=b"\x89PNG..", image_caption="图"))
    (body,) = bridge_callback.posted()
    assert body["image"] == {"png_base64": "iVBORy4u", "caption": "图"}
