"""Rule 2.6's monthly inactivity report, the welcome for new members and the rules announcement."""

from __future__ import annotations

import pytest

from bot.chat import Member
from bot.dispatch import Dispatcher, load_routers
from bot.scheduler import JobScheduler
from tests.jobs_support import ADMIN, CHAT_ID, GROUP, Clock, at, incoming, make_config, make_services, store

ACTIVE = Member("951", "陈一-癸支付-产品-天津")
SLEEPER = Member("952", "褚二-子银行-风控-重庆")
ROBOT = Member("953", "提醒机器人", is_bot=True)
ADMIN_CHAT = "-100999"


@pytest.fixture
async def env(tmp_path, telegram_api, http, fake_clock):
    chats = [{"platform": "telegram", "chat_id": CHAT_ID, "group": GROUP, "admins": [ADMIN.id],
              "admin_chat_id": ADMIN_CHAT}]
    config = make_config(tmp_path, telegram_api.api_base, chats=chats,
                         schedule={"inactivity_days": 60, "rules_post_time": "19:00"})
    clock = Clock(at(2024, 7, 1, 9, 0))
    services = make_services(config, http, clock, fake_clock)
    await store(services, [
        incoming(SLEEPER, "大家好", at(2024, 3, 1, 10, 0)),
        incoming(ROBOT, "定时提醒", at(2024, 3, 1, 10, 0)),
        incoming(ADMIN, "早", at(2024, 3, 2, 10, 0)),
        incoming(ACTIVE, "今天聊清算", at(2024, 6, 20, 10, 0)),
    ])
    return services, clock


async def test_inactivity_report_goes_to_the_admin_chat_once_a_month(env, telegram_api):
    services, clock = env
    scheduler = JobScheduler(services)
    await scheduler.trampoline("inactivity")
    (report,) = telegram_api.sent()
    assert report["chat_id"] == ADMIN_CHAT
    assert SLEEPER.name in report["text"] and "2024-03-01" in report["text"]
    assert ACTIVE.name not in report["text"] and ROBOT.name not in report["text"]
    assert ADMIN.name not in report["text"]  # admins are never listed
    clock.set(2024, 7, 1, 9, 30)
    await scheduler.trampoline("inactivity")
    assert len(telegram_api.sent()) == 1
    clock.set(2024, 8, 1, 9, 0)
    await scheduler.trampoline("inactivity")
    assert len(telegram_api.sent()) == 2  # a new month, a new report
    assert SLEEPER.name in telegram_api.sent()[1]["text"] and ACTIVE.name not in telegram_api.sent()[1]["text"]


async def test_welcome_greets_people_who_join_with_the_nickname_rule(env, telegram_api):
    services, clock = env
    newcomer = Member("960", "新同学")
    dispatcher = Dispatcher(services, load_routers(["handlers.welcome"]))
    await dispatcher.dispatch(incoming(ADMIN, "", clock.now, joined=(newcomer, Member("961", "bot", is_bot=True))))
    (welcome,) = telegram_api.sent()
    assert welcome["chat_id"] == CHAT_ID
    assert "tg://user?id=960" in welcome["text"] and "tg://user?id=961" not in welcome["text"]
    assert "请新入群的同学注意修改下昵称" in welcome["text"] and "姓名-公司-岗位" in welcome["text"]


async def test_rules_announcement_once_a_day_with_the_days_schedule(env, telegram_api):
    services, clock = env
    clock.set(2024, 7, 1, 19, 0)
    scheduler = JobScheduler(services)
    await scheduler.trampoline("rules")
    await scheduler.trampoline("rules")
    (post,) = telegram_api.sent()
    assert "19:15" in post["text"] and "19:30" in post["text"] and "姓名-公司-岗位" in post["text"]


async def test_texts_are_configurable(tmp_path, telegram_api, http, fake_clock):
    config = make_config(tmp_path, telegram_api.api_base,
                         schedule={"rules_post_time": "08:00", "rules_post_text": "今天也请遵守群规。",
                                   "welcome_text": "欢迎！"})
    services = make_services(config, http, Clock(at(2024, 7, 1, 8, 0)), fake_clock)
    await JobScheduler(services).trampoline("rules")
    await Dispatcher(services, load_routers(["handlers.welcome"])).dispatch(
        incoming(ADMIN, "", at(2024, 7, 1, 8, 1), joined=(Member("970", "新人"),)))
    texts = [p["text"] for p in telegram_api.sent()]
    assert texts[0] == "今天也请遵守群规。" and texts[1].endswith("欢迎！")


async def test_inactivity_per_chat_when_two_chats_feed_one_group(tmp_path, telegram_api, http, fake_clock):
    chats = [{"platform": "telegram", "chat_id": CHAT_ID, "group": GROUP},
             {"platform": "telegram", "chat_id": "-100333", "group": GROUP}]
    config = make_config(tmp_path, telegram_api.api_base, chats=chats)
    services = make_services(config, http, Clock(at(2024, 7, 1, 9, 0)), fake_clock)
    await store(services, [incoming(SLEEPER, "在吗", at(2024, 3, 1, 10, 0)),
                           incoming(Member("954", "卫三-寅支付-产品-福州"), "在", at(2024, 3, 1, 11, 0), chat_id="-100333")])
    await JobScheduler(services).trampoline("inactivity")
    reports = {p["chat_id"]: p["text"] for p in telegram_api.sent()}
    assert SLEEPER.name in reports[CHAT_ID] and "卫三" not in reports[CHAT_ID]
    assert "卫三" in reports["-100333"] and SLEEPER.name not in reports["-100333"]
