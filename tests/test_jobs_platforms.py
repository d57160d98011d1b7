"""The jobs on Slack and WeCom too: each platform's fake API on 127.0.0.1 receives the digest
(with the chart where the platform takes images) and the nickname reminder with its mentions."""

from __future__ import annotations

import base64
from dataclasses import replace

from bot.chat import Member
from bot.platforms.slack import SlackAdapter
from bot.platforms.wecom import WecomAdapter
from bot.scheduler import JobScheduler
from bot.services import Services
from bot.store import connect
from tests.fakes.slack_api import BOT_TOKEN
from tests.jobs_support import GROUP, Clock, at, incoming, make_config, store

PNG = b"\x89PNG\r\n\x1a\n"
NAMED = Member("U0NAMED", "吕一-丑支付-产品-武汉")
UNNAMED = Member("U0PLAIN", "阿明")


async def _talk(services, platform: str, chat_id: str) -> None:
    def msg(member, text, when):
        return replace(incoming(member, text, when, chat_id=chat_id), platform=platform)

    await store(services, [
        msg(NAMED, "请问条码支付的单笔限额是多少？", at(2024, 6, 1, 9, 0)),
        msg(UNNAMED, "静态码单日 500 元，动态码看风险等级。", at(2024, 6, 1, 9, 1)),
    ])


async def test_slack_gets_the_digest_upload_and_the_reminder(tmp_path, slack_api, http, fake_clock):
    config = make_config(tmp_path, "", chats=[{"platform": "slack", "chat_id": "C0CHAN", "group": GROUP}],
                         platforms={"slack": {"bot_token": BOT_TOKEN, "api_base": slack_api.api_base}})
    clock = Clock(at(2024, 6, 1, 22, 0))
    services = Services(config=config, db=connect(config.store.url), http=http, clock=clock)
    services.adapters["slack"] = SlackAdapter(config.platforms.slack, http, clock=fake_clock, sleep=fake_clock.sleep)
    await _talk(services, "slack", "C0CHAN")
    scheduler = JobScheduler(services)
    await scheduler.trampoline("digest")
    (digest,) = slack_api.posted()
    assert digest["channel"] == "C0CHAN" and "群日报 2024-06-01" in digest["text"]
    assert [data[:8] for data in slack_api.uploads.values()] == [PNG]
    clock.now = at(2024, 6, 2, 6, 45)
    await scheduler.trampoline("nicknames")
    reminder = slack_api.posted()[-1]
    assert "<@U0PLAIN>" in reminder["text"] and "U0NAMED" not in reminder["text"]


async def test_wecom_gets_markdown_the_chart_and_mentioned_list(tmp_path, wecom_robot, http, fake_clock):
    config = make_config(tmp_path, "", chats=[{"platform": "wecom", "chat_id": "robot", "group": GROUP}],
                         platforms={"wecom": {"robot_webhook_url": wecom_robot.webhook_url}})
    clock = Clock(at(2024, 6, 1, 22, 0))
    services = Services(config=config, db=connect(config.store.url), http=http, clock=clock)
    services.adapters["wecom"] = WecomAdapter(config.platforms.wecom, http, clock=fake_clock, sleep=fake_clock.sleep)
    await _talk(services, "wecom", "robot")
    scheduler = JobScheduler(services)
    await scheduler.trampoline("digest")
    kinds = [p["msgtype"] for p in wecom_robot.posted()]
    assert kinds == ["markdown", "image"]
    assert "**📋 testgroup 群日报 2024-06-01" in wecom_robot.posted()[0]["markdown"]["content"]
    assert base64.b64decode(wecom_robot.posted()[1]["image"]["base64"]).startswith(PNG)
    clock.now = at(2024, 6, 2, 6, 45)
    await scheduler.trampoline("nicknames")
    reminder = wecom_robot.posted()[-1]
    assert reminder["msgtype"] == "text" and reminder["text"]["mentioned_list"] == ["U0PLAIN"]
