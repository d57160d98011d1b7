"""The weekly digest through the scheduler's path (trampoline → job → ledger → adapter) to the fake
Telegram API and the fake WeCom robot: the week's discussions and open questions, the same week a
year before, the chart, once per week, within each platform's message limit."""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import replace

import pytest

from bot.archive.model import Day, Message
from bot.archive.reader import read_day
from bot.chat import Member
from bot.platforms.wecom import WecomAdapter
from bot.scheduler import JobScheduler
from bot.services import Services
from bot.store import connect
from bot.store.ingest import ingest_day
from tests.conftest import DATA
from tests.jobs_support import CHAT_ID, ZONE, Clock, at, incoming, make_config, make_services, store

PNG = b"\x89PNG\r\n\x1a\n"
GROUP = "digestclub"
ASKER = Member("701", "钱九-海川支付-产品-重庆")
HELPER = Member("702", "周十-長風银行-运营-天津")


def _year_before() -> Day:
    """2023-05-16, inside the same calendar week a year earlier: one short exchange."""
    t = lambda m: dt.datetime(2023, 5, 16, 10, m, tzinfo=ZONE)  # noqa: E731
    return Day(GROUP, dt.date(2023, 5, 16), "2023-05-16-WeChat", "test", messages=[
        Message(t(0), "甲-某支付", "请问备付金集中存管以后，客户备付金的利息归谁？"),
        Message(t(2), "乙-某银行", "集中存管以后备付金交存央行，央行不付利息，支付机构也就没有利息收入了。"),
        Message(t(4), "丙-某科技", "所以支付机构的盈利模式要从沉淀资金利息转向手续费和增值服务。"),
        Message(t(6), "甲-某支付", "明白了，谢谢"),
    ])


async def _seed(services) -> None:
    ingest_day(services.db, read_day(DATA / "digest" / GROUP / "2024-05-14-chat.markdown", GROUP))
    ingest_day(services.db, _year_before())
    await store(services, [
        incoming(ASKER, "请问有人做过条码支付的风险等级评估吗？静态码限额怎么定？", at(2024, 5, 18, 9, 0)),
        incoming(HELPER, "做过，静态码单日累计不超过500元，按风险等级再往下调。", at(2024, 5, 18, 9, 3)),
        incoming(ASKER, "明白了，谢谢", at(2024, 5, 18, 9, 5)),
    ], group=GROUP)


@pytest.fixture
async def weekly(tmp_path, telegram_api, http, fake_clock):
    config = make_config(tmp_path, telegram_api.api_base,
                         chats=[{"platform": "telegram", "chat_id": CHAT_ID, "group": GROUP}],
                         schedule={"weekly_digest_day": "sun", "weekly_digest_time": "21:00"})
    clock = Clock(at(2024, 5, 19, 21, 0))  # a Sunday
    services = make_services(config, http, clock, fake_clock)
    await _seed(services)
    return services, clock


def test_the_weekly_job_fires_on_the_configured_day_and_time(weekly):
    services, _ = weekly
    runs = JobScheduler(services).next_runs(at(2024, 5, 15, 12, 0))
    assert runs["weekly_digest"] == at(2024, 5, 19, 21, 0)
    off = services.config.model_copy(update={"schedule": services.config.schedule.model_copy(
        update={"weekly_digest_time": "", "weekly_digest_day": "wed"})})
    services.config = off
    assert "weekly_digest" not in JobScheduler(services).jobs


async def test_weekly_digest_through_the_scheduler(weekly, telegram_api):
    services, clock = weekly
    await JobScheduler(services).trampoline("weekly_digest")
    (message,) = telegram_api.sent("sendMessage")
    text = message["text"]
    assert "<b>📅 digestclub 群周报 2024-05-13 – 2024-05-19（截至 05-19 21:00）</b>" in text
    # 41 archived lines on 05-14 and 3 live ones on 05-18, by 9 + 2 people.
    assert "消息 44 条，11 人发言；最热闹的一天 05-14（41 条）。" in text
    assert text.index("1. <b>清结算系统的对账设计</b>") < text.index("2. <b>请问跨行转账的差错退汇")
    assert "05-14 19:55–20:11 · 4 人参与 · 梁八、陈七 主聊" in text
    questions = text[text.index("本周值得回答的问题"):]
    assert "05-14 15:00 冯四：有人了解跨境收单的外汇申报流程吗？需要准备哪些材料？" in questions
    assert "条码支付" not in questions  # answered on 05-18
    past = text[text.index("往年本周（2023 年同一周）"):]
    assert "05-16 10:00–10:06 · 3 人参与" in past and "备付金集中存管" in past
    (photo,) = [r for r in telegram_api.requests if r.path.endswith("/sendPhoto")]
    assert photo.files["photo"][1].startswith(PNG)
    await JobScheduler(services).trampoline("weekly_digest")  # once per week
    assert len(telegram_api.sent("sendMessage")) == 1


async def test_wecom_gets_the_same_weekly_text_within_its_limit(tmp_path, wecom_robot, http, fake_clock):
    config = make_config(tmp_path, "", chats=[{"platform": "wecom", "chat_id": "robot", "group": GROUP}],
                         platforms={"wecom": {"robot_webhook_url": wecom_robot.webhook_url}})
    clock = Clock(at(2024, 5, 19, 21, 0))
    services = Services(config=config, db=connect(config.store.url), http=http, clock=clock)
    services.adapters["wecom"] = WecomAdapter(config.platforms.wecom, http, clock=fake_clock, sleep=fake_clock.sleep)
    await _seed(services)
    await JobScheduler(services).trampoline("weekly_digest")
    posted = wecom_robot.posted()
    texts = [p["markdown"]["content"] for p in posted if p["msgtype"] == "markdown"]
    assert texts and all(len(t.encode()) <= 4096 for t in texts)  # WeCom's markdown limit, in bytes
    whole = "\n".join(texts)
    assert "**📅 digestclub 群周报" in whole and "本周值得回答的问题" in whole and "往年本周" in whole
    assert [p["msgtype"] for p in posted][-1] == "image"
    assert base64.b64decode(posted[-1]["image"]["base64"]).startswith(PNG)
