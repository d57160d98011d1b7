"""Property tests of every adapter's parse step on arbitrary (validly signed) bodies.

Whatever the body, parsing followed by the boundary (`bounded`) either refuses it with a 4xx
`Rejected` or yields messages whose every field is a bounded, storable value of the right type.
No other exception: anything else would be a 500 or a traceback after the 200.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import aiohttp
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from multidict import CIMultiDict

from bot.chat import MAX_NAME, Incoming, Member
from bot.config import BridgeSection, SlackSection, TelegramSection, WecomSection
from bot.platforms.base import Rejected, Request
from bot.platforms.bounds import EARLIEST, LATEST, MAX_ID, MAX_TEXT, bounded
from bot.platforms.bridge import BridgeAdapter
from bot.platforms.slack import SlackAdapter
from bot.platforms.telegram import TelegramAdapter
from bot.platforms.wecom import WecomAdapter
from tests.fakes import four_platforms as fp

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=-2**70, max_value=2**70),
    st.floats(allow_nan=False), st.text(max_size=20), st.sampled_from(["a\ud800b", "\x00", "9999-12-31T23:59:59-12:00",
                                                                        "253402300000", "-1", "1e308", ""]))
JSON = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                      st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                    max_leaves=8)


def maybe(valid) -> st.SearchStrategy:
    """Mostly the valid value, sometimes anything JSON can hold."""
    return st.one_of(st.just(valid), st.just(valid), JSON)


def some_text() -> st.SearchStrategy:
    return st.one_of(st.text(max_size=30), st.sampled_from(["/search 备付金", "/search@ArchiveFuzzBot x", "a\ud800b",
                                                            "<@UARCHBOT1> /ask q", "x" * (MAX_TEXT + 5)]))


def check(parsed) -> None:
    for message in parsed.messages:
        check_message(message)
    for update in parsed.member_updates:
        check_member(update.member)
        assert isinstance(update.chat_id, str) and len(update.chat_id) <= MAX_ID


def check_member(member: Member) -> None:
    assert isinstance(member.id, str) and isinstance(member.name, str) and isinstance(member.is_bot, bool)
    assert len(member.id) <= MAX_ID and len(member.name) <= MAX_NAME
    assert not UNSTORABLE.search(member.id + member.name)


def check_message(m: Incoming) -> None:
    for value in (m.chat_id, m.message_id, m.text, m.args):
        assert isinstance(value, str) and not UNSTORABLE.search(value)
    assert len(m.chat_id) <= MAX_ID and len(m.message_id) <= MAX_ID and len(m.text) <= MAX_TEXT
    for value in (m.reply_to, m.thread_id, m.command):
        assert value is None or (isinstance(value, str) and len(value) <= MAX_ID and not UNSTORABLE.search(value))
    assert isinstance(m.time, dt.datetime) and EARLIEST <= m.time < LATEST
    for member in (m.sender, *m.mentions, *m.joined):
        check_member(member)
    assert isinstance(m.addressed, bool) and isinstance(m.edited, bool)


def parse_or_refuse(adapter, request: Request) -> None:
    try:
        parsed = bounded(adapter.parse(request))
    except Rejected as exc:
        assert 400 <= exc.status < 500
        return
    check(parsed)


def request(body: bytes, content_type: str = "application/json", query: dict | None = None) -> Request:
    return Request("POST", "/webhook/x", query or {}, CIMultiDict({"Content-Type": content_type}), body)


def dumps(value) -> bytes:
    return json.dumps(value).encode()


@pytest.fixture(scope="module")
def adapters():
    session = aiohttp.ClientSession.__new__(aiohttp.ClientSession)  # never used: parse does not send
    clock = lambda: 1_764_000_000.0  # noqa: E731
    return {
        "telegram": TelegramAdapter(TelegramSection(**fp.TELEGRAM), session, clock=clock),
        "slack": SlackAdapter(SlackSection(**fp.SLACK), session, clock=clock),
        "wecom": WecomAdapter(WecomSection(**fp.WECOM), session, clock=clock),
        "bridge": BridgeAdapter(BridgeSection(**fp.BRIDGE), session, clock=clock),
    }


TELEGRAM_USER = st.fixed_dictionaries({"id": maybe(501), "is_bot": maybe(False), "first_name": maybe("Ada")},
                                      optional={"last_name": JSON, "username": JSON})
TELEGRAM_ENTITY = st.fixed_dictionaries({"type": st.sampled_from(["bot_command", "mention", "text_mention", "url"]),
                                         "offset": maybe(0), "length": maybe(7)}, optional={"user": TELEGRAM_USER})
TELEGRAM_MESSAGE = st.fixed_dictionaries(
    {"message_id": maybe(1), "date": maybe(1764000000),
     "chat": st.fixed_dictionaries({"id": maybe(-1001234), "type": maybe("supergroup")}),
     "from": st.one_of(TELEGRAM_USER, JSON), "text": st.one_of(some_text(), JSON)},
    optional={"entities": st.lists(TELEGRAM_ENTITY, max_size=3), "new_chat_members": st.lists(TELEGRAM_USER, max_size=3),
              "reply_to_message": st.fixed_dictionaries({"message_id": maybe(7), "from": TELEGRAM_USER}),
              "message_thread_id": JSON, "is_topic_message": JSON, "caption": JSON})
TELEGRAM_UPDATE = st.fixed_dictionaries({"update_id": maybe(1)},
                                        optional={"message": st.one_of(TELEGRAM_MESSAGE, JSON),
                                                  "edited_message": TELEGRAM_MESSAGE})


@SETTINGS
@given(st.one_of(TELEGRAM_UPDATE, JSON))
@example({"update_id": 1, "message": {"message_id": 1, "date": 2**70, "chat": {"id": 1}, "from": {"id": 1},
                                      "text": "x"}})
def test_telegram_parse(adapters, update):
    parse_or_refuse(adapters["telegram"], request(dumps(update)))


SLACK_EVENT = st.fixed_dictionaries(
    {"type": st.sampled_from(["message", "app_mention", "member_joined_channel", "reaction_added"]),
     "channel": maybe("C0PAYMENTS"), "user": maybe("U0ALICE"), "text": st.one_of(some_text(), JSON),
     "ts": maybe("1764000000.000100")},
    optional={"subtype": st.sampled_from(["message_changed", "bot_message", "thread_broadcast", "channel_join"]),
              "thread_ts": JSON, "bot_id": JSON, "username": JSON, "user_profile": JSON, "event_ts": JSON,
              "message": JSON, "channel_type": JSON})
SLACK_ENVELOPE = st.fixed_dictionaries({"type": st.sampled_from(["event_callback", "url_verification", "other"]),
                                        "event_id": maybe("Ev01"), "event": st.one_of(SLACK_EVENT, JSON)},
                                       optional={"challenge": JSON})


@SETTINGS
@given(st.one_of(SLACK_ENVELOPE, JSON))
@example({"type": "event_callback", "event_id": "Ev1", "event": {"type": "message", "channel": "C1", "user": "U1",
                                                                 "text": "x", "ts": "1e308"}})
def test_slack_parse(adapters, envelope):
    parse_or_refuse(adapters["slack"], request(dumps(envelope)))


@SETTINGS
@given(st.dictionaries(st.sampled_from(["command", "text", "user_id", "user_name", "channel_id", "trigger_id"]),
                       st.text(max_size=20)))
def test_slack_slash_command_parse(adapters, form):
    from urllib.parse import urlencode
    body = urlencode({k: v.encode("utf-8", "replace") for k, v in form.items()}).encode()
    parse_or_refuse(adapters["slack"], request(body, "application/x-www-form-urlencoded"))


XML_TEXT = st.text(alphabet=st.characters(blacklist_categories=["Cs", "Cc"]), max_size=20)
WECOM_FIELDS = st.fixed_dictionaries(
    {"FromUserName": st.one_of(st.just("zhangsan"), XML_TEXT), "CreateTime": st.one_of(
        st.just("1764000000"), st.integers().map(str), XML_TEXT), "MsgType": st.sampled_from(["text", "event", "image"]),
     "Content": XML_TEXT, "MsgId": st.one_of(st.just("72"), XML_TEXT, st.just("7" * 3000))},
    optional={"ChatId": XML_TEXT, "AgentID": XML_TEXT})


@SETTINGS
@given(WECOM_FIELDS)
def test_wecom_parse(adapters, fields):
    query, headers, body = fp.signed("wecom", fp.wecom_xml(fields), 1_764_000_000)
    req = Request("POST", "/webhook/wecom", query, CIMultiDict(headers), body)
    adapters["wecom"].verify(req)
    parse_or_refuse(adapters["wecom"], req)


BRIDGE_MEMBER = st.fixed_dictionaries({"id": maybe("wxid_ada"), "name": maybe("Ada")}, optional={"is_bot": JSON})
BRIDGE_EVENT = st.fixed_dictionaries(
    {"type": st.sampled_from(["message", "join", "member_update", "other"]), "chat_id": maybe("room-1@chatroom"),
     "message_id": maybe("m1"), "sender": st.one_of(BRIDGE_MEMBER, JSON), "text": st.one_of(some_text(), JSON),
     "time": maybe(1764000000)},
    optional={"members": st.one_of(st.lists(BRIDGE_MEMBER, max_size=3), JSON), "member": BRIDGE_MEMBER,
              "mentions": st.one_of(st.lists(BRIDGE_MEMBER, max_size=3), JSON), "reply_to": JSON, "thread_id": JSON,
              "addressed": JSON, "edited": JSON, "event_id": JSON})


@SETTINGS
@given(st.one_of(BRIDGE_EVENT, JSON))
def test_bridge_parse(adapters, event):
    parse_or_refuse(adapters["bridge"], request(dumps(event)))
