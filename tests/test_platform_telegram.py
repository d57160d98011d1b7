"""Telegram adapter: secret-token check, update parsing (UTF-16 entities), sending through the fake API."""

from __future__ import annotations

import html
import json
import logging
import re
import traceback

import pytest

from bot.chat import Member, Outgoing
from bot.config import TelegramSection
from bot.platforms.base import Rejected, Request
from bot.platforms.pacing import SendFailed
from bot.platforms.telegram import SECRET_HEADER, TelegramAdapter, utf16_slice
from bot.platforms.text import utf16_units
from tests.fakes.telegram_api import TOKEN

SECRET = "s3cret-header-value"
BOT = "ArchiveTestBot"


def section(api_base: str = "http://127.0.0.1:9") -> TelegramSection:
    return TelegramSection(bot_token=TOKEN, secret_token=SECRET, bot_username=BOT, api_base=api_base)


def request(update: dict | bytes, secret: str | None = SECRET) -> Request:
    body = update if isinstance(update, bytes) else json.dumps(update, ensure_ascii=False).encode()
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    return Request("POST", "/webhook/telegram", {}, headers, body)


def entity(text: str, needle: str, kind: str, **extra) -> dict:
    """An entity for `needle` inside `text`, with offsets in UTF-16 units as Telegram sends them."""
    start = text.index(needle)
    return {"type": kind, "offset": utf16_units(text[:start]), "length": utf16_units(needle), **extra}


def update(text: str, entities: list | None = None, *, chat_type: str = "supergroup", **message) -> dict:
    body = {"message_id": 77, "date": 1700000000, "text": text,
            "from": {"id": 4242, "is_bot": False, "first_name": "小明", "last_name": "测试", "username": "xm"},
            "chat": {"id": -1001234567890, "type": chat_type, "title": "测试群"}}
    if entities:
        body["entities"] = entities
    body.update(message)
    return {"update_id": 900001, "message": body}


@pytest.fixture
def adapter(http, fake_clock):
    return TelegramAdapter(section(), http, clock=fake_clock, sleep=fake_clock.sleep)


@pytest.fixture
def live(http, fake_clock, telegram_api):
    return TelegramAdapter(section(telegram_api.api_base), http, clock=fake_clock, sleep=fake_clock.sleep)


# -- verify ---------------------------------------------------------------------------------

def test_verify_accepts_the_configured_secret(adapter):
    adapter.verify(request(update("hi")))


@pytest.mark.parametrize("secret", ["wrong", "", None, SECRET + "x"])
def test_verify_rejects_forged_or_missing_secret(adapter, secret):
    with pytest.raises(Rejected) as info:
        adapter.verify(request(update("hi"), secret=secret))
    assert info.value.status == 403


def test_verify_refuses_everything_when_no_secret_is_configured(http):
    bare = TelegramAdapter(TelegramSection(bot_token=TOKEN), http)
    with pytest.raises(Rejected):
        bare.verify(request(update("hi"), secret=""))


# -- parse ----------------------------------------------------------------------------------

def test_parse_plain_group_message(adapter):
    parsed = adapter.parse(request(update("请问退款多久到账?")))
    assert parsed.delivery_id == "900001"
    (msg,) = parsed.messages
    assert (msg.platform, msg.chat_id, msg.message_id) == ("telegram", "-1001234567890", "77")
    assert msg.sender == Member("4242", "小明 测试", False)
    assert msg.text == "请问退款多久到账?" and msg.command is None and not msg.addressed
    assert msg.time.timestamp() == 1700000000 and msg.time.tzinfo is not None


def test_command_addressed_to_us_and_to_another_bot(adapter):
    ours = "/search@ArchiveTestBot 清算 备付金"
    (msg,) = adapter.parse(request(update(ours, [entity(ours, "/search@ArchiveTestBot", "bot_command")]))).messages
    assert (msg.command, msg.args, msg.addressed) == ("search", "清算 备付金", True)

    other = "/search@OtherBot 清算"
    (msg,) = adapter.parse(request(update(other, [entity(other, "/search@OtherBot", "bot_command")]))).messages
    assert msg.command is None and msg.args == "" and not msg.addressed

    bare = "/Search 清算"
    (msg,) = adapter.parse(request(update(bare, [entity(bare, "/Search", "bot_command")]))).messages
    assert (msg.command, msg.args) == ("search", "清算")


@pytest.mark.parametrize("lead", ["🙂 ", "👍🏽👍🏽 ", "😀🇨🇳 ", "@ArchiveTestBot ", "@archivetestbot "])
def test_entity_offsets_are_utf16_when_emoji_precede_the_command(adapter, lead):
    text = f"{lead}/stats@ArchiveTestBot 本周 🧧 红包"
    ents = [entity(text, "/stats@ArchiveTestBot", "bot_command")]
    if lead.startswith("@"):
        ents.insert(0, entity(text, lead.strip(), "mention"))
    assert ents[-1]["offset"] > len(lead) or lead.startswith("@")  # surrogate pairs shift offsets
    (msg,) = adapter.parse(request(update(text, ents))).messages
    assert (msg.command, msg.args, msg.addressed) == ("stats", "本周 🧧 红包", True)


def test_utf16_slice_handles_surrogate_pairs():
    text = "🧧a👍🏽@name x"
    assert utf16_slice(text, utf16_units("🧧a👍🏽"), 5) == "@name"


def test_command_after_words_is_not_a_command(adapter):
    text = "看看 /search 怎么用"
    (msg,) = adapter.parse(request(update(text, [entity(text, "/search", "bot_command")]))).messages
    assert msg.command is None


def test_mentions_text_mentions_and_replies(adapter):
    text = "🎉 @lily_pay 和 老王 看一下 @ArchiveTestBot"
    ents = [entity(text, "@lily_pay", "mention"),
            entity(text, "老王", "text_mention", user={"id": 555, "is_bot": False, "first_name": "老王"}),
            entity(text, "@ArchiveTestBot", "mention")]
    (msg,) = adapter.parse(request(update(text, ents))).messages
    assert msg.mentions == (Member("@lily_pay", "lily_pay"), Member("555", "老王"))
    assert msg.addressed

    reply_to_bot = update("谢谢", reply_to_message={"message_id": 70, "date": 1699999999, "text": "答案",
                                                   "from": {"id": 123456, "is_bot": True, "first_name": "Bot"},
                                                   "chat": {"id": -1001234567890, "type": "supergroup"}})
    (msg,) = adapter.parse(request(reply_to_bot)).messages
    assert msg.reply_to == "70" and msg.addressed

    reply_to_person = update("同意", reply_to_message={"message_id": 71, "date": 1699999999, "text": "x",
                                                     "from": {"id": 9, "is_bot": False, "first_name": "甲"},
                                                     "chat": {"id": -1001234567890, "type": "supergroup"}})
    (msg,) = adapter.parse(request(reply_to_person)).messages
    assert msg.reply_to == "71" and not msg.addressed


def test_edited_join_bot_sender_private_chat(adapter):
    body = update("改过的文字")
    body["edited_message"] = body.pop("message") | {"edit_date": 1700000100}
    (msg,) = adapter.parse(request(body)).messages
    assert msg.edited and msg.text == "改过的文字"

    joined = update("", new_chat_members=[{"id": 31, "is_bot": False, "first_name": "新人", "last_name": "-支付-上海"}])
    del joined["message"]["text"]
    (msg,) = adapter.parse(request(joined)).messages
    assert msg.joined == (Member("31", "新人 -支付-上海"),) and msg.text == ""

    from_bot = update("beep")
    from_bot["message"]["from"] = {"id": 77, "is_bot": True, "first_name": "OtherBot"}
    assert adapter.parse(request(from_bot)).messages[0].sender.is_bot

    (msg,) = adapter.parse(request(update("/help", [{"type": "bot_command", "offset": 0, "length": 5}],
                                          chat_type="private"))).messages
    assert msg.addressed and msg.command == "help"


def test_unknown_updates_are_acknowledged_silently(adapter):
    for body in ({"update_id": 5, "callback_query": {"id": "1"}},
                 {"update_id": 6, "my_chat_member": {"chat": {"id": 1}}},
                 {"update_id": 7, "channel_post": {"message_id": 1, "chat": {"id": -100, "type": "channel"}}}):
        parsed = adapter.parse(request(body))
        assert parsed.messages == () and parsed.status == 200 and parsed.delivery_id


@pytest.mark.parametrize("body", [b"not json", b"[1,2]", b'{"message": {}}',
                                  b'{"update_id": 1, "message": {"text": "no chat"}}',
                                  b'{"update_id": 1, "message": {"message_id": 1, "chat": {"id": 1},'
                                  b' "from": {"id": 2}, "text": "x"}}', "\udcff".encode("utf-8", "surrogatepass")])
def test_malformed_bodies_are_400(adapter, body):
    with pytest.raises(Rejected) as info:
        adapter.parse(request(body))
    assert info.value.status == 400


# -- send -----------------------------------------------------------------------------------

async def test_send_reply_with_mention_in_html(live, telegram_api):
    sent = await live.send(Outgoing(chat_id="-1001234567890", text="见 <规则> & 说明",
                                    mentions=(Member("4242", "小明<b>"),), reply_to="77"))
    (payload,) = telegram_api.sent()
    assert payload["parse_mode"] == "HTML" and payload["chat_id"] == "-1001234567890"
    assert payload["text"] == '<a href="tg://user?id=4242">小明&lt;b&gt;</a> 见 &lt;规则&gt; &amp; 说明'
    assert payload["reply_parameters"] == {"message_id": 77, "allow_sending_without_reply": True}
    assert sent.message_ids == ("1001",)


async def test_hundreds_of_mentions_never_squeeze_the_text(live, telegram_api):
    people = tuple(Member(str(10_000 + n), f"成员{n:03d}-支付-上海🧧") for n in range(300))
    await live.send(Outgoing(chat_id="-100", text="请按群规修改群昵称。" * 300, mentions=people))
    bodies = [p["text"] for p in telegram_api.sent()]
    visible = [html.unescape(re.sub(r"<[^>]+>", "", b)) for b in bodies]
    assert all(utf16_units(v) <= 4096 for v in visible)
    assert sum(b.count("tg://user?id=") for b in bodies) == 300
    assert "请按群规" in visible[-1] or "请按群规" in visible[-2]

    telegram_api.reset()
    await live.send(Outgoing(chat_id="-100", text="", mentions=people[:2]))
    assert [p["text"].count("tg://user") for p in telegram_api.sent()] == [2]


async def test_topic_thread_and_foreign_reply_ids(live, telegram_api):
    await live.send(Outgoing(chat_id="-100", text="x", reply_to="archive-2018-02-28-17", thread_id="42"))
    (payload,) = telegram_api.sent()
    assert "reply_parameters" not in payload and payload["message_thread_id"] == 42


async def test_markdown_subset_becomes_html(live, telegram_api):
    await live.send(Outgoing(chat_id="1", text="*今日* `code<x>` [归档](https://example.org/a?b=1&c=2) 1<2",
                             markdown=True))
    assert telegram_api.sent()[0]["text"] == (
        '<b>今日</b> <code>code&lt;x&gt;</code> <a href="https://example.org/a?b=1&amp;c=2">归档</a> 1&lt;2')


def digest_text() -> str:
    lines = [f"{n:03d}. 关于备付金集中存管的讨论🧧，清算机构👍🏽的回复与后续安排。" * 3 for n in range(200)]
    return "\n".join(lines[:100]) + "\n\n" + "\n".join(lines[100:])


async def test_long_text_split_at_4096_utf16_units(live, telegram_api, fake_clock):
    text = digest_text()
    assert len(text) > 10_000
    sent = await live.send(Outgoing(chat_id="1", text=text, mentions=(Member("4242", "小明"),)))
    parts = [p["text"] for p in telegram_api.sent()]
    assert len(parts) == len(sent.message_ids) > 2
    for part in parts:
        assert 0 < utf16_units(part.replace('<a href="tg://user?id=4242">', "").replace("</a>", "")) <= 4096
    visible = "".join(parts).replace('<a href="tg://user?id=4242">小明</a> ', "")
    assert re.sub(r"\s", "", visible) == re.sub(r"\s", "", text)
    assert all(p.endswith("安排。") for p in parts[:-1])  # cut on line boundaries
    assert fake_clock.sleeps and all(s <= 60 for s in fake_clock.sleeps)  # paced, never really slept


async def test_429_waits_retry_after_then_succeeds(live, telegram_api, fake_clock):
    telegram_api.fail_next(429, 1, retry_after=7)
    sent = await live.send(Outgoing(chat_id="5", text="hello"))
    assert len(telegram_api.requests) == 2 and sent.message_ids
    assert 7 in fake_clock.sleeps


async def test_500_is_retried_with_a_bound(live, telegram_api, fake_clock):
    telegram_api.fail_next(500, 2)
    assert (await live.send(Outgoing(chat_id="5", text="hello"))).message_ids
    assert len(telegram_api.requests) == 3

    telegram_api.requests.clear()
    telegram_api.fail_next(502, 10)
    with pytest.raises(SendFailed) as info:
        await live.send(Outgoing(chat_id="5", text="hello"))
    assert len(telegram_api.requests) == 4 and info.value.status == 502


async def test_client_errors_are_not_retried_and_never_show_the_token(http, fake_clock, telegram_api, caplog):
    caplog.set_level(logging.DEBUG)
    wrong = TelegramAdapter(section(telegram_api.api_base).model_copy(update={"bot_token": "999:other-token"}),
                            http, clock=fake_clock, sleep=fake_clock.sleep)
    with pytest.raises(SendFailed) as info:
        await wrong.send(Outgoing(chat_id="5", text="hello"))
    assert info.value.status == 401 and len(telegram_api.requests) == 1
    ours = [r.getMessage() for r in caplog.records if r.name != "aiohttp.access"]  # not the fake's log
    assert "other-token" not in str(info.value) and not any("other-token" in line for line in ours)
    assert "other-token" not in repr(wrong)

    unreachable = TelegramAdapter(section("http://127.0.0.1:1"), http, clock=fake_clock,
                                  sleep=fake_clock.sleep, attempts=2)
    with pytest.raises(SendFailed) as info:
        await unreachable.send(Outgoing(chat_id="5", text="hello"))
    logged = "".join(traceback.format_exception(info.value))  # what logger.exception would print
    assert "connection failed" in logged and TOKEN not in logged


async def test_pacing_holds_the_21st_message_of_a_minute(live, telegram_api, fake_clock):
    start = fake_clock.now
    for n in range(20):
        await live.send(Outgoing(chat_id="-100", text=f"m{n}"))
    assert fake_clock.now - start == pytest.approx(19)  # one a second
    await live.send(Outgoing(chat_id="-100", text="m20"))
    assert fake_clock.now - start == pytest.approx(60)  # the minute window binds
    assert fake_clock.sleeps[-1] == pytest.approx(41)
    await live.send(Outgoing(chat_id="-200", text="other chat"))  # pacing is per chat
    assert fake_clock.now - start == pytest.approx(60)
    assert len(telegram_api.sent()) == 22


async def test_send_photo_multipart(live, telegram_api):
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 100
    sent = await live.send(Outgoing(chat_id="-100", text="", image_png=png, image_caption="本周图表",
                                    reply_to="12"))
    (record,) = telegram_api.requests
    assert record.path.endswith("/sendPhoto")
    assert record.files["photo"] == ("chart.png", png)
    assert record.form["caption"] == "本周图表" and json.loads(record.form["reply_parameters"])["message_id"] == 12
    assert len(sent.message_ids) == 1
