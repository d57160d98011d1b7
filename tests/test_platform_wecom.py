"""WeCom adapter: WXBizMsgCrypt round trip and signatures, callback parsing, robot sending via the fake."""

from __future__ import annotations

import base64
import re

import pytest

from bot.chat import Member, Outgoing
from bot.config import WecomSection
from bot.platforms.base import Rejected, Request
from bot.platforms.pacing import SendFailed
from bot.platforms.wecom import CryptoError, WecomAdapter, aes_key, decrypt, encrypt, signature
from bot.platforms.text import utf8_bytes

TOKEN = "QDG6eK"
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"  # 43 characters, as WeCom issues them
CORP = "wx5823bf96d3bd56c7"
KEY = aes_key(AES_KEY)


def section(robot: str = "") -> WecomSection:
    return WecomSection(token=TOKEN, encoding_aes_key=AES_KEY, corp_id=CORP, robot_webhook_url=robot)


def inner_xml(content: str = "/search 备付金", *, msg_type: str = "text", chat_id: str | None = None,
              **override: str) -> bytes:
    fields = {"ToUserName": CORP, "FromUserName": "zhangsan", "CreateTime": "1700000000",
              "MsgType": msg_type, "Content": content, "MsgId": "7211234567890123456", "AgentID": "1000002"}
    if chat_id:
        fields["ChatId"] = chat_id
    fields.update(override)
    body = "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in fields.items() if v is not None)
    return f"<xml>{body}</xml>".encode()


def callback(plain: bytes, *, receive_id: str = CORP, token: str = TOKEN, timestamp: str = "1700000000",
             nonce: str = "1372623149") -> Request:
    encrypted = encrypt(KEY, plain, receive_id)
    body = f"<xml><ToUserName><![CDATA[{CORP}]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt>" \
           f"<AgentID><![CDATA[1000002]]></AgentID></xml>".encode()
    query = {"msg_signature": signature(token, timestamp, nonce, encrypted), "timestamp": timestamp, "nonce": nonce}
    return Request("POST", "/webhook/wecom", query, {"Content-Type": "text/xml"}, body)


@pytest.fixture
def adapter(http, fake_clock):
    return WecomAdapter(section(), http, clock=fake_clock, sleep=fake_clock.sleep)


@pytest.fixture
def live(http, fake_clock, wecom_robot):
    return WecomAdapter(section(wecom_robot.webhook_url), http, clock=fake_clock, sleep=fake_clock.sleep)


# -- crypto -----------------------------------------------------------------------------------

def test_encrypt_decrypt_round_trip_and_layout():
    message = "<xml><Content>中文🧧</Content></xml>".encode()
    encrypted = encrypt(KEY, message, CORP, random16=b"r" * 16)
    assert decrypt(KEY, encrypted) == (message, CORP)
    raw = base64.b64decode(encrypted)
    assert len(raw) % 32 == 0 and len(KEY) == 32
    # independent check of the layout: 16 random bytes, big-endian length, message, receive id
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    plain = Cipher(algorithms.AES(KEY), modes.CBC(KEY[:16])).decryptor().update(raw)
    assert plain[:16] == b"r" * 16 and int.from_bytes(plain[16:20], "big") == len(message)
    assert plain[20:20 + len(message)] == message
    pad = plain[-1]
    assert 1 <= pad <= 32 and plain[-pad:] == bytes([pad]) * pad
    assert plain[20 + len(message):-pad] == CORP.encode()


# The worked example of WeCom's callback documentation and its WXBizMsgCrypt samples (token QDG6eK,
# the EncodingAESKey and corp id above): a URL-verification GET and an encrypted text message.
DOC_ECHOSTR = "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ=="
DOC_ENCRYPT = (
    "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJT"
    "s3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2h"
    "gf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4Eh"
    "zJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2Yo"
    "yyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q==")


def test_wecoms_published_url_verification_example():
    assert signature(TOKEN, "1409659589", "263014780", DOC_ECHOSTR) == "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3"
    echo, receive_id = decrypt(KEY, DOC_ECHOSTR)
    assert receive_id == CORP and echo.isdigit()  # the plain echostr the server must answer with


def test_wecoms_published_message_example(http):
    assert signature(TOKEN, "1409659813", "1372623149", DOC_ENCRYPT) == "477715d11cdb4164915debcba66cb864d751f3e6"
    adapter = WecomAdapter(section(), http, clock=lambda: 1409659813 + 30)
    body = (f"<xml><ToUserName><![CDATA[{CORP}]]></ToUserName><Encrypt><![CDATA[{DOC_ENCRYPT}]]></Encrypt>"
            f"<AgentID><![CDATA[218]]></AgentID></xml>").encode()
    request = Request("POST", "/webhook/wecom", {"msg_signature": "477715d11cdb4164915debcba66cb864d751f3e6",
                                                  "timestamp": "1409659813", "nonce": "1372623149"},
                      {"Content-Type": "text/xml"}, body)
    adapter.verify(request)
    (message,) = adapter.parse(request).messages
    assert (message.sender.id, message.text, message.message_id, message.chat_id) == (
        "mycreate", "hello", "4561255354251345929", "218")


@pytest.mark.parametrize("bad", ["not base64!!", base64.b64encode(b"short").decode(),
                                 base64.b64encode(b"\x00" * 32).decode()])
def test_decrypt_rejects_garbage(bad):
    with pytest.raises(CryptoError):
        decrypt(KEY, bad)


def test_aes_key_must_be_43_chars():
    with pytest.raises(ValueError):
        aes_key("tooshort")


# -- verify + parse ---------------------------------------------------------------------------

def test_get_url_verification_returns_decrypted_echostr(adapter):
    echostr = encrypt(KEY, b"8907226582311283422", CORP)
    query = {"msg_signature": signature(TOKEN, "1700000000", "abc", echostr), "timestamp": "1700000000",
             "nonce": "abc", "echostr": echostr}
    req = Request("GET", "/webhook/wecom", query, {}, b"")
    adapter.verify(req)
    parsed = adapter.parse(req)
    assert parsed.response_body == b"8907226582311283422" and parsed.messages == ()

    forged = Request("GET", "/webhook/wecom", query | {"msg_signature": "0" * 40}, {}, b"")
    with pytest.raises(Rejected) as info:
        adapter.verify(forged)
    assert info.value.status == 401


def test_text_message_parsed(adapter):
    req = callback(inner_xml("/search 备付金 集中存管"))
    adapter.verify(req)
    parsed = adapter.parse(req)
    (msg,) = parsed.messages
    assert parsed.delivery_id == "7211234567890123456" and parsed.response_body == b""
    assert (msg.platform, msg.chat_id, msg.message_id) == ("wecom", "1000002", "7211234567890123456")
    assert msg.sender == Member("zhangsan", "zhangsan") and msg.addressed
    assert (msg.command, msg.args) == ("search", "备付金 集中存管")
    assert msg.time.timestamp() == 1700000000


def test_group_chat_id_and_non_text_messages(adapter):
    (msg,) = adapter.parse(callback(inner_xml("大家好", chat_id="wrOgAAAAchatid01"))).messages
    assert msg.chat_id == "wrOgAAAAchatid01" and not msg.addressed and msg.command is None
    event = inner_xml(msg_type="event", Content=None, MsgId=None, Event="enter_agent")
    assert adapter.parse(callback(event)).messages == ()
    assert adapter.parse(callback(inner_xml(msg_type="image", Content=None))).messages == ()


@pytest.mark.parametrize("case", ["forged", "wrong-token", "missing-query", "missing-encrypt"])
def test_verify_rejects(adapter, case):
    req = callback(inner_xml())
    if case == "forged":
        req = Request(req.method, req.path, dict(req.query) | {"msg_signature": "f" * 40}, req.headers, req.body)
    elif case == "wrong-token":
        req = callback(inner_xml(), token="other")
    elif case == "missing-query":
        req = Request(req.method, req.path, {}, req.headers, req.body)
    else:
        req = Request(req.method, req.path, req.query, req.headers, b"<xml><ToUserName>x</ToUserName></xml>")
    with pytest.raises(Rejected) as info:
        adapter.verify(req)
    assert info.value.status in (400, 401)


def test_receive_id_mismatch_rejected(adapter):
    req = callback(inner_xml(), receive_id="wxSOMEOTHERCORP")
    adapter.verify(req)  # the signature is fine: the ciphertext was just made for another corp
    with pytest.raises(Rejected) as info:
        adapter.parse(req)
    assert info.value.status == 403


@pytest.mark.parametrize("body", [b"<xml><Encrypt>unclosed", b"not xml at all", b"<notxml/>",
                                  b'<!DOCTYPE x [<!ENTITY a "b">]><xml><Encrypt>&a;</Encrypt></xml>'])
def test_malformed_outer_xml_is_400(adapter, body):
    req = Request("POST", "/webhook/wecom", {"msg_signature": "x", "timestamp": "1", "nonce": "n"}, {}, body)
    with pytest.raises(Rejected) as info:
        adapter.verify(req)
    assert info.value.status == 400


@pytest.mark.parametrize("inner", [b"<xml><MsgType>text</MsgType", b"<!DOCTYPE lol><xml/>",
                                   inner_xml(MsgId="")])
def test_malformed_inner_xml_is_400(adapter, inner):
    req = callback(inner)
    adapter.verify(req)
    with pytest.raises(Rejected) as info:
        adapter.parse(req)
    assert info.value.status == 400


# -- send -------------------------------------------------------------------------------------

async def test_text_with_mentions(live, wecom_robot):
    await live.send(Outgoing(chat_id="1000002", text="请看群公告", mentions=(Member("zhangsan", "张三"),)))
    (payload,) = wecom_robot.posted()
    assert payload == {"msgtype": "text", "text": {"content": "请看群公告", "mentioned_list": ["zhangsan"]}}
    assert wecom_robot.requests[0].query["key"] == wecom_robot.key


async def test_long_chinese_text_split_at_2048_bytes(live, wecom_robot):
    text = "".join(f"第{n}条：备付金🧧集中存管👍🏽讨论，清算机构回复后续安排" for n in range(400))
    assert len(text) > 10_000 and "\n" not in text
    sent = await live.send(Outgoing(chat_id="1000002", text=text, mentions=(Member("lisi", "李四"),)))
    parts = [p["text"]["content"] for p in wecom_robot.posted()]
    assert len(parts) == len(sent.message_ids) > 5
    assert all(0 < utf8_bytes(p) <= 2048 for p in parts)
    assert "".join(parts) == text  # no separators here: nothing at all is lost
    assert "mentioned_list" in wecom_robot.posted()[0]["text"]
    assert all("mentioned_list" not in p["text"] for p in wecom_robot.posted()[1:])


async def test_markdown_parts_within_4096_bytes(live, wecom_robot):
    text = "\n".join(f"*{n}* 关于`备付金`的 [讨论](https://example.org/{n}) 🧧" * 3 for n in range(200))
    await live.send(Outgoing(chat_id="1000002", text=text, markdown=True, mentions=(Member("lisi", "李四"),)))
    posted = wecom_robot.posted()
    assert all(p["msgtype"] == "markdown" and utf8_bytes(p["markdown"]["content"]) <= 4096 for p in posted)
    assert posted[0]["markdown"]["content"].startswith("<@lisi> **0** 关于`备付金`的 [讨论](https://example.org/0)")
    joined = "".join(p["markdown"]["content"] for p in posted)
    assert re.sub(r"\s", "", joined.replace("**", "*")).replace("<@lisi>", "") == re.sub(r"\s", "", text)


async def test_45009_waits_and_retries(live, wecom_robot, fake_clock):
    wecom_robot.fail_next(429, 1)
    await live.send(Outgoing(chat_id="1000002", text="hello"))
    assert len(wecom_robot.requests) == 2 and 60.0 in fake_clock.sleeps


async def test_500_retried_with_bound_and_errcode_failures(live, wecom_robot):
    wecom_robot.fail_next(500, 1)
    await live.send(Outgoing(chat_id="1000002", text="hello"))
    assert len(wecom_robot.requests) == 2

    wecom_robot.reset()
    wecom_robot.fail_next(500, 4)
    with pytest.raises(SendFailed):
        await live.send(Outgoing(chat_id="1000002", text="hello"))
    assert len(wecom_robot.requests) == 4


async def test_wrong_key_fails_without_leaking_it(http, fake_clock, wecom_robot):
    wrong = WecomAdapter(section(wecom_robot.url + "/cgi-bin/webhook/send?key=SECRETKEY"), http,
                         clock=fake_clock, sleep=fake_clock.sleep)
    with pytest.raises(SendFailed) as info:
        await wrong.send(Outgoing(chat_id="1", text="hello"))
    assert "93000" in str(info.value) and "SECRETKEY" not in str(info.value)
    assert len(wecom_robot.requests) == 1


async def test_pacing_20_per_minute_per_robot(live, wecom_robot, fake_clock):
    start = fake_clock.now
    for n in range(20):
        await live.send(Outgoing(chat_id=f"chat{n % 3}", text=f"m{n}"))
    assert fake_clock.now == start  # a burst of 20 is allowed
    await live.send(Outgoing(chat_id="chat0", text="m20"))
    assert fake_clock.now - start == pytest.approx(60) and len(wecom_robot.posted()) == 21


async def test_image_as_base64_with_md5(live, wecom_robot):
    png = b"\x89PNG\r\n\x1a\n" + b"\x01" * 64
    await live.send(Outgoing(chat_id="1", text="", image_png=png))
    (payload,) = wecom_robot.posted()
    assert payload["msgtype"] == "image"
    assert base64.b64decode(payload["image"]["base64"]) == png


async def test_markdown_mentions_packed_within_4096_bytes(live, wecom_robot):
    people = tuple(Member(f"user{n:05d}", f"成员{n}") for n in range(500))
    await live.send(Outgoing(chat_id="1", text="*请改群昵称*", markdown=True, mentions=people))
    contents = [p["markdown"]["content"] for p in wecom_robot.posted()]
    assert all(utf8_bytes(c) <= 4096 for c in contents)
    assert sum(c.count("<@user") for c in contents) == 500 and contents[-1].endswith("**请改群昵称**")
