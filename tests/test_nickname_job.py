"""The nickname job end to end: members from the store, reminders through the fake Telegram API,
counts, escalation after two unheeded reminders, renames, batching, the admin /names command."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.chat import Member
from bot.dispatch import Dispatcher, load_routers
from bot.nickname_rule import Candidate
from bot.scheduler import JobScheduler
from bot.store.schema import nickname_reminders
from tests.jobs_support import ADMIN, CHAT_ID, Clock, at, incoming, make_config, make_services, store

GOOD = Member("601", "孙三-丙银行-产品-深圳")
BAD1 = Member("602", "小李")
BAD2 = Member("603", "老周_运营")
BOT = Member("604", "某机器人", is_bot=True)


@pytest.fixture
def config(tmp_path, telegram_api):
    return make_config(tmp_path, telegram_api.api_base, nicknames={"grace_days": 3})


@pytest.fixture
async def env(config, http, fake_clock):
    clock = Clock(at(2024, 5, 1, 6, 45))
    services = make_services(config, http, clock, fake_clock)
    await store(services, [incoming(m, "大家好，今天讨论什么", at(2024, 4, 20, 10, i)) for i, m in
                           enumerate([GOOD, BAD1, BAD2, BOT, ADMIN])])
    return services, clock, JobScheduler(services)


def counts(services) -> dict[str, tuple[int, bool]]:
    with services.db.connect() as conn:
        rows = conn.execute(select(nickname_reminders.c.user_key, nickname_reminders.c.count,
                                   nickname_reminders.c.escalated_ts))
        return {key: (count, escalated is not None) for key, count, escalated in rows}


def mentioned_ids(payload: dict) -> set[str]:
    import re

    return set(re.findall(r"tg://user\?id=(\d+)", payload["text"]))


async def test_one_reminder_per_chat_mentions_every_non_conforming_member(env, telegram_api):
    services, clock, scheduler = env
    await scheduler.trampoline("nicknames")
    (payload,) = telegram_api.sent()
    assert payload["chat_id"] == CHAT_ID
    assert mentioned_ids(payload) == {BAD1.id, BAD2.id}  # not the good name, the bot, nor the admin
    assert "姓名-公司-岗位" in payload["text"]
    assert counts(services) == {BAD1.id: (1, False), BAD2.id: (1, False)}
    await scheduler.trampoline("nicknames")  # a restart or a second clock: same day, no second post
    assert len(telegram_api.sent()) == 1


async def test_escalation_after_two_unheeded_reminders(env, telegram_api):
    services, clock, scheduler = env
    await scheduler.trampoline("nicknames")
    clock.set(2024, 5, 2, 6, 45)
    await scheduler.trampoline("nicknames")
    assert counts(services) == {BAD1.id: (2, False), BAD2.id: (2, False)}
    clock.set(2024, 5, 3, 6, 45)
    await scheduler.trampoline("nicknames")
    sent = telegram_api.sent()
    assert len(sent) == 3
    report = sent[2]
    assert "可以移出本群" in report["text"] and BAD1.name in report["text"] and BAD2.name in report["text"]
    assert mentioned_ids(report) == {ADMIN.id}  # no admin chat configured: this chat, addressed to admins
    assert counts(services) == {BAD1.id: (2, True), BAD2.id: (2, True)}
    clock.set(2024, 5, 4, 6, 45)
    await scheduler.trampoline("nicknames")
    assert len(telegram_api.sent()) == 3  # listed once; never removed automatically


async def test_a_rename_is_recognised_on_the_next_message_and_resets_the_count(env, telegram_api):
    services, clock, scheduler = env
    await scheduler.trampoline("nicknames")
    renamed = Member(BAD1.id, "李四-丁支付-技术-杭州")
    message = incoming(renamed, "改好了", at(2024, 5, 1, 8, 0))
    await store(services, [message])
    dispatcher = Dispatcher(services, load_routers(["handlers.nicknames"]))
    await dispatcher.dispatch(message)
    assert counts(services) == {BAD2.id: (1, False)}
    clock.set(2024, 5, 2, 6, 45)
    await scheduler.trampoline("nicknames")
    assert mentioned_ids(telegram_api.sent()[-1]) == {BAD2.id}


async def test_renaming_to_another_bad_name_keeps_the_count(env, telegram_api):
    services, clock, scheduler = env
    await scheduler.trampoline("nicknames")
    message = incoming(Member(BAD2.id, "老周"), "嗯", at(2024, 5, 1, 8, 0))
    await store(services, [message])
    await Dispatcher(services, load_routers(["handlers.nicknames"])).dispatch(message)
    assert counts(services)[BAD2.id] == (1, False)


async def test_new_members_get_a_grace_period(env, telegram_api):
    services, clock, scheduler = env
    newcomer = Member("605", "新人")
    await store(services, [incoming(ADMIN, "", at(2024, 4, 30, 12, 0), joined=(newcomer,))])
    await scheduler.trampoline("nicknames")
    assert newcomer.id not in mentioned_ids(telegram_api.sent()[0])
    clock.set(2024, 5, 4, 6, 45)  # four days after joining: past the three days of grace
    await scheduler.trampoline("nicknames")
    assert newcomer.id in mentioned_ids(telegram_api.sent()[-1])


async def test_many_mentions_are_batched_under_one_ledger_claim(tmp_path, telegram_api, http, fake_clock):
    config = make_config(tmp_path, telegram_api.api_base, nicknames={"mentions_per_message": 2})
    services = make_services(config, http, Clock(at(2024, 5, 1, 6, 45)), fake_clock)
    people = [Member(str(700 + i), f"路人{i}") for i in range(5)]
    await store(services, [incoming(p, "hi", at(2024, 4, 1, 9, i)) for i, p in enumerate(people)])
    await JobScheduler(services).trampoline("nicknames")
    sent = telegram_api.sent()
    assert [len(mentioned_ids(p)) for p in sent] == [2, 2, 1]
    assert set().union(*map(mentioned_ids, sent)) == {p.id for p in people}
    assert "（1/3）" in sent[0]["text"]


async def test_admin_names_command_and_polite_refusal(env, telegram_api):
    services, clock, scheduler = env
    dispatcher = Dispatcher(services, load_routers(["handlers.nicknames", "handlers.admin"]))
    refused = await dispatcher.dispatch(incoming(BAD1, "/names", clock.now, command="names"))
    assert len(refused) == 1 and "管理员" in refused[0].text
    assert not any(mentioned_ids(p) for p in telegram_api.sent())
    await dispatcher.dispatch(incoming(ADMIN, "/names", clock.now, command="names"))
    assert mentioned_ids(telegram_api.sent()[-1]) == {BAD1.id, BAD2.id}
    replies = await dispatcher.dispatch(incoming(ADMIN, "/names", clock.now, command="names"))
    assert "已经提醒过" in replies[-1].text


def test_enforce_remove_is_refused_where_no_platform_can_remove(tmp_path, telegram_api):
    from pydantic import ValidationError

    from handlers.nicknames import escalation_text

    with pytest.raises(ValidationError, match="can remove members"):  # the Telegram adapter has no remove_member
        make_config(tmp_path, telegram_api.api_base, nicknames={"enforce": "remove", "reminders_before_escalation": 1})
    report = escalation_text([Candidate(BAD1.id, BAD1.name)], 1, "remove")
    assert BAD1.name in report and "请手动处理" in report  # were an adapter to lose the ability at run time


async def test_two_chats_feeding_one_group_remind_only_their_own_members(tmp_path, telegram_api, http, fake_clock):
    chats = [{"platform": "telegram", "chat_id": CHAT_ID, "group": "shared"},
             {"platform": "telegram", "chat_id": "-100222", "group": "shared"}]
    config = make_config(tmp_path, telegram_api.api_base, chats=chats)
    services = make_services(config, http, Clock(at(2024, 5, 1, 6, 45)), fake_clock)
    await store(services, [incoming(BAD1, "hi", at(2024, 4, 1, 9, 0)),
                           incoming(BAD2, "hi", at(2024, 4, 1, 9, 1), chat_id="-100222")], group="shared")
    await JobScheduler(services).trampoline("nicknames")
    by_chat = {p["chat_id"]: mentioned_ids(p) for p in telegram_api.sent()}
    assert by_chat == {CHAT_ID: {BAD1.id}, "-100222": {BAD2.id}}


async def test_the_rule_is_built_once_per_config_and_rebuilt_when_the_config_changes(env, telegram_api):
    services, clock, scheduler = env
    await scheduler.trampoline("nicknames")
    dispatcher = Dispatcher(services, load_routers(["handlers.nicknames"]))
    rule = services.nickname_rule[1]
    await dispatcher.dispatch(incoming(Member(BAD2.id, "周七-乙支付-运营-广州"), "在吗", at(2024, 5, 1, 8, 0)))
    assert services.nickname_rule[1] is rule  # the observer reused the job's rule
    # A new config (e.g. reloaded) with 4-part names required: three parts no longer conform.
    services.config = services.config.model_copy(
        update={"nicknames": services.config.nicknames.model_copy(update={"min_parts": 4})})
    assert counts(services) == {BAD1.id: (1, False)}
    await dispatcher.dispatch(incoming(Member(BAD1.id, "李四-丁支付-技术"), "改了", at(2024, 5, 1, 8, 1)))
    assert services.nickname_rule[1] is not rule
    assert counts(services) == {BAD1.id: (1, False)}  # three parts: not forgiven under the new rule
    await dispatcher.dispatch(incoming(Member(BAD1.id, "李四-丁支付-技术-杭州"), "再改", at(2024, 5, 1, 8, 2)))
    assert counts(services) == {}
