"""Member-update events (renames) end to end: a signed bridge `member_update` over real HTTP renames
the member in the members table and, when the new name follows rule 2.5, clears the reminder count
the morning job gave them; a forged one changes nothing. All names are invented."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from bot.platforms import bridge as bridge_platform
from bot.scheduler import JobScheduler
from bot.store.schema import nickname_reminders
from tests.fakes.bridge_callback import BRIDGE_SECRET
from tests.integration.conftest import GROUP, base_config

CHAT = "30005678@chatroom"
OTHER_CHAT = "39999999@chatroom"  # not configured
BAD_NAME = "小王"
GOOD_NAME = "王五-戊支付-风控-成都"


@pytest.fixture
async def bot(make_bot, bridge_callback, tmp_path):
    raw = base_config(tmp_path, platforms={"bridge": {"secret": BRIDGE_SECRET,
                                                      "callback_url": bridge_callback.callback_url}},
                      chats=[{"platform": "bridge", "chat_id": CHAT, "group": GROUP}])
    return await make_bot(raw)


async def post(bot, body: dict, clock, *, secret: str = BRIDGE_SECRET):
    raw = json.dumps(body, ensure_ascii=False).encode()
    timestamp = str(int(clock.now))
    return await bot.client.post("/webhook/bridge", data=raw, headers={
        "Content-Type": "application/json", bridge_platform.TIMESTAMP_HEADER: timestamp,
        bridge_platform.SIGNATURE_HEADER: bridge_platform.sign(secret, timestamp, raw)})


def rename(name: str, *, member_id: str = "wxid_wang", chat_id: str = CHAT) -> dict:
    return {"type": "member_update", "chat_id": chat_id, "member": {"id": member_id, "name": name},
            "time": "2026-11-25T12:00:00+08:00"}


def counts(bot) -> dict[str, int]:
    with bot.services.db.connect() as conn:
        return dict(conn.execute(select(nickname_reminders.c.user_key, nickname_reminders.c.count)).all())


def names(bot) -> dict[str, tuple[str, int]]:
    return {row["user_key"]: (row["display_name"], row["last_seen_ts"]) for row in bot.member_rows()}


@pytest.fixture
async def reminded(bot, bridge_callback, fake_clock):
    """The member spoke under a name that breaks rule 2.5 and the morning job reminded them."""
    spoke = {"type": "message", "chat_id": CHAT, "message_id": "m-1", "text": "大家好",
             "sender": {"id": "wxid_wang", "name": BAD_NAME}, "time": "2026-11-25T10:00:00+08:00"}
    assert (await post(bot, spoke, fake_clock)).status == 200
    await JobScheduler(bot.services).trampoline("nicknames")
    [reminder] = [p for p in bridge_callback.posted() if "群规" in p["text"]]
    assert reminder["mentions"] == [{"id": "wxid_wang", "name": BAD_NAME}]
    assert counts(bot) == {"wxid_wang": 1}
    return names(bot)["wxid_wang"][1]


async def test_signed_rename_updates_the_member_and_resets_the_count(bot, reminded, fake_clock):
    assert (await post(bot, rename(GOOD_NAME), fake_clock)).status == 200
    assert names(bot)["wxid_wang"] == (GOOD_NAME, reminded)  # renamed; a rename is not activity
    assert counts(bot) == {}
    assert (await post(bot, rename(GOOD_NAME), fake_clock)).status == 200  # a retry is harmless
    assert names(bot)["wxid_wang"] == (GOOD_NAME, reminded) and counts(bot) == {}


async def test_forged_rename_is_rejected_and_changes_nothing(bot, reminded, fake_clock):
    response = await post(bot, rename(GOOD_NAME), fake_clock, secret="not-the-secret")
    assert response.status == 401
    assert names(bot)["wxid_wang"][0] == BAD_NAME and counts(bot) == {"wxid_wang": 1}


async def test_rename_to_another_bad_name_keeps_the_count(bot, reminded, fake_clock):
    assert (await post(bot, rename("小王_支付"), fake_clock)).status == 200
    assert names(bot)["wxid_wang"][0] == "小王_支付" and counts(bot) == {"wxid_wang": 1}


async def test_unknown_member_is_added_and_unconfigured_chats_are_ignored(bot, fake_clock):
    assert (await post(bot, rename("赵六-己银行-产品-西安", member_id="wxid_zhao"), fake_clock)).status == 200
    assert (await post(bot, rename("钱七", member_id="wxid_qian", chat_id=OTHER_CHAT), fake_clock)).status == 200
    assert {key: name for key, (name, _) in names(bot).items()} == {"wxid_zhao": "赵六-己银行-产品-西安"}


async def test_a_message_after_a_rename_still_refreshes_the_members_row(bot, reminded, fake_clock):
    """The inbox skips member upserts that change nothing; a rename must not fool that cache."""
    await post(bot, rename(GOOD_NAME), fake_clock)
    spoke = {"type": "message", "chat_id": CHAT, "message_id": "m-2", "text": "改了",
             "sender": {"id": "wxid_wang", "name": BAD_NAME}, "time": "2026-11-25T10:00:30+08:00"}
    assert (await post(bot, spoke, fake_clock)).status == 200
    assert names(bot)["wxid_wang"][0] == BAD_NAME  # the message's name is the latest news again


async def test_background_dispatch_resets_the_count_too(make_bot, bridge_callback, fake_clock, tmp_path):
    """Production dispatches after the ack, in a tracked task (shutdown waits for it)."""
    import asyncio

    from bot.webhook import DISPATCHER

    raw = base_config(tmp_path, platforms={"bridge": {"secret": BRIDGE_SECRET,
                                                      "callback_url": bridge_callback.callback_url}},
                      chats=[{"platform": "bridge", "chat_id": CHAT, "group": GROUP}])
    bot = await make_bot(raw, inline=False)
    spoke = {"type": "message", "chat_id": CHAT, "message_id": "m-1", "text": "大家好",
             "sender": {"id": "wxid_wang", "name": BAD_NAME}, "time": "2026-11-25T10:00:00+08:00"}
    assert (await post(bot, spoke, fake_clock)).status == 200
    await JobScheduler(bot.services).trampoline("nicknames")
    assert counts(bot) == {"wxid_wang": 1}
    assert (await post(bot, rename(GOOD_NAME), fake_clock)).status == 200
    await asyncio.gather(*bot.app[DISPATCHER].tasks)
    assert counts(bot) == {} and names(bot)["wxid_wang"][0] == GOOD_NAME
