"""The jobs inside the real app: the scheduler starts and stops with create_app, and the welcome,
/names and the scheduled reminder work end to end through the Telegram webhook and fake Bot API."""

from __future__ import annotations

import html
import re

from bot.app import create_app
from bot.config import Config
from bot.services import SERVICES
from tests.integration.conftest import base_config, post_telegram, telegram_section, tg_update
from tests.jobs_support import Clock, at

CHAT = "-1005551"
ADMIN_ID = 42


def plain(text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", text))


async def test_scheduler_runs_inside_serve_and_jobs_work_end_to_end(aiohttp_client, telegram_api, tmp_path, fake_clock):
    raw = base_config(tmp_path, platforms={"telegram": telegram_section(telegram_api)},
                      server={"run_scheduler": True},
                      chats=[{"platform": "telegram", "chat_id": CHAT, "group": "prodarch", "admins": [str(ADMIN_ID)]}],
                      nicknames={"grace_days": 0})
    clock = Clock(at(2026, 11, 25, 11, 0))
    app = create_app(Config.model_validate(raw), inline_dispatch=True, load_answers=False, clock=clock,
                     adapter_options={"clock": fake_clock, "sleep": fake_clock.sleep})
    client = await aiohttp_client(app)
    services = app[SERVICES]
    scheduler = services.scheduler
    assert scheduler.scheduler.running
    assert {job.id for job in scheduler.scheduler.get_jobs()} == {"publish", "nicknames", "digest", "inactivity",
                                                                    "weekly_digest", "refit", "prune-limits"}

    joined = tg_update("", chat_id=CHAT, new_chat_members=[{"id": 77, "is_bot": False, "first_name": "小王"}])
    del joined["message"]["text"]
    assert (await post_telegram(client, joined)).status == 200
    welcome = plain(telegram_api.sent()[-1]["text"])
    assert "欢迎" in welcome and "请新入群的同学注意修改下昵称" in welcome

    await post_telegram(client, tg_update("大家好", chat_id=CHAT, user_id=78, name="阿强"))
    await post_telegram(client, tg_update("/names", chat_id=CHAT, user_id=78, name="阿强"))
    assert "只有群管理员" in plain(telegram_api.sent()[-1]["text"])
    await post_telegram(client, tg_update("/names", chat_id=CHAT, user_id=ADMIN_ID, name="群主-测试-运营-北京"))
    reminder = telegram_api.sent()[-1]["text"]
    assert "tg://user?id=77" in reminder and "tg://user?id=78" in reminder
    assert f"tg://user?id={ADMIN_ID}" not in reminder

    await scheduler.trampoline("nicknames")  # the scheduled 06:45 run the same day: already done
    assert telegram_api.sent()[-1]["text"] == reminder
    await client.close()
    assert not scheduler.scheduler.running
