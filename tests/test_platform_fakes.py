"""The fakes and inbound builders other tests rely on behave like the platforms they stand for."""

from __future__ import annotations

import aiohttp

from bot.config import BridgeSection, SlackSection, WecomSection
from bot.platforms.base import Request
from bot.platforms.bridge import BridgeAdapter
from bot.platforms.slack import SlackAdapter
from bot.platforms.wecom import WecomAdapter
from tests.fakes import inbound

AES = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"


async def test_fail_next_is_consumed_in_order(telegram_api, http):
    telegram_api.fail_next(500, 2)
    telegram_api.fail_next(429, 1, retry_after=3)
    url = f"{telegram_api.url}/bot{telegram_api.token}/sendMessage"
    statuses = []
    for _ in range(4):
        async with http.post(url, json={"chat_id": 1, "text": "x"}) as response:
            statuses.append((response.status, (await response.json()).get("parameters")))
    assert statuses == [(500, None), (500, None), (429, {"retry_after": 3}), (200, None)]
    assert len(telegram_api.requests) == 4 and telegram_api.sent()[0] == {"chat_id": 1, "text": "x"}


async def test_recorder_reads_form_and_multipart(slack_api, http):
    async with http.post(f"{slack_api.api_base}/files.getUploadURLExternal", data={"filename": "a.png", "length": "3"},
                         headers={"Authorization": f"Bearer {slack_api.token}"}) as response:
        ticket = await response.json()
    form = aiohttp.FormData()
    form.add_field("file", b"abc", filename="a.png", content_type="image/png")
    async with http.post(ticket["upload_url"], data=form) as response:
        assert response.status == 200
    assert slack_api.requests[0].form == {"filename": "a.png", "length": "3"}
    assert slack_api.requests[1].files["file"] == ("a.png", b"abc")
    assert slack_api.uploads[ticket["file_id"]] == b"abc"


async def test_wecom_robot_enforces_byte_limit_and_key(wecom_robot, http):
    async with http.post(wecom_robot.webhook_url, json={"msgtype": "text", "text": {"content": "中" * 683}}) as r:
        assert (await r.json())["errcode"] == 40058  # 2,049 bytes
    async with http.post(wecom_robot.url + "/cgi-bin/webhook/send?key=nope",
                         json={"msgtype": "text", "text": {"content": "x"}}) as r:
        assert (await r.json())["errcode"] == 93000


def test_inbound_builders_pass_the_adapters(http, fake_clock):
    slack = SlackAdapter(SlackSection(signing_secret="s"), http, clock=fake_clock)
    headers, body = inbound.slack_signed("s", inbound.slack_event(
        {"type": "message", "channel": "C1", "user": "U1", "text": "/help", "ts": "1.2"}), fake_clock.now)
    req = Request("POST", "/webhook/slack", {}, headers, body)
    slack.verify(req)
    assert slack.parse(req).messages[0].command == "help"

    bridge = BridgeAdapter(BridgeSection(secret="b"), http, clock=fake_clock)
    headers, body = inbound.bridge_signed("b", {"type": "message", "chat_id": "c", "message_id": "m",
                                                "sender": {"id": "u", "name": "U"}, "text": "hi"}, fake_clock.now)
    req = Request("POST", "/webhook/bridge", {}, headers, body)
    bridge.verify(req)
    assert bridge.parse(req).messages[0].text == "hi"

    wecom = WecomAdapter(WecomSection(token="t", encoding_aes_key=AES, corp_id="wxc"), http, clock=fake_clock)
    query, body = inbound.wecom_callback("t", AES, "wxc", inbound.wecom_text_xml("/stats", corp_id="wxc"))
    req = Request("POST", "/webhook/wecom", query, {"Content-Type": "text/xml"}, body)
    wecom.verify(req)
    assert wecom.parse(req).messages[0].command == "stats"
    req = Request("GET", "/webhook/wecom", inbound.wecom_url_check("t", AES, "wxc", "42"), {}, b"")
    wecom.verify(req)
    assert wecom.parse(req).response_body == b"42"
