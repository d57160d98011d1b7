"""Webhook bodies and pending-row copies go through orjson; whatever orjson refuses keeps the fate
the standard parser gave it (read, or a 400), and every message copy reads back unchanged."""

from __future__ import annotations

import datetime as dt
import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.chat import Incoming, Member
from bot.platforms.base import Rejected, json_object
from bot.store.shared import message_from_json, message_json

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12)


@pytest.mark.parametrize("body", [
    b'{"text": "a\\ud800b"}',  # a lone surrogate escape: read, then cleaned at the boundary
    b'{"n": 1267650600228229401496703205376}',  # an integer past 64 bits
    b'{"x": NaN, "y": -Infinity}',
    b'\xef\xbb\xbf{"bom": 1}',  # UTF-8 with a byte-order mark
    '{"utf16": 1}'.encode("utf-16"),
])
def test_what_orjson_refuses_is_read_as_the_standard_parser_reads_it(body):
    value = json_object(body, "not an object")
    expected = json.loads(body)
    assert value.keys() == expected.keys()
    for key, item in expected.items():
        assert value[key] == item or (math.isnan(item) and math.isnan(value[key]))


@pytest.mark.parametrize("body, reason", [
    (b"{not json", "body is not JSON"), (b"\xff\xfe\x00", "body is not JSON"), (b"", "body is not JSON"),
    (b"[1, 2]", "not an object"), (b'"text"', "not an object"),
])
def test_bad_bodies_are_a_400(body, reason):
    with pytest.raises(Rejected) as refused:
        json_object(body, "not an object")
    assert (refused.value.status, refused.value.reason) == (400, reason)


@pytest.mark.parametrize("number", [-9223372036854775809, 18446744073709551616, 10**30, -(10**30)])
def test_integers_past_64_bits_keep_their_value(number):
    body = json.dumps({"update_id": number, "text": "收到"}).encode()
    assert json_object(body, "not an object") == {"update_id": number, "text": "收到"}


@SETTINGS
@given(st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=6))
def test_any_object_reads_as_the_standard_parser_reads_it(value):
    body = json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")
    try:
        expected = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        with pytest.raises(Rejected):
            json_object(body, "not an object")
        return
    assert json_object(body, "not an object") == expected


@pytest.mark.parametrize("text", ["早上好，今天的会议改到下午三点了", "a\ud800b", "引号\"和\\反斜杠\n换行"])
def test_a_pending_rows_copy_reads_back_unchanged(text):
    message = Incoming("telegram", "-100", "7", Member("501", "孙三-丙银行-产品-深圳"), text,
                       dt.datetime(2026, 11, 25, 3, 0, tzinfo=dt.timezone.utc),
                       mentions=(Member("502", "Ada"),), reply_to="6", command="ask", args="问题",
                       joined=(Member("503", "New One", True),))
    assert message_from_json(message_json(message)) == message
