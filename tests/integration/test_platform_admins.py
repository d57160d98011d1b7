"""The platform's own admins may curate where the platform tells: Slack's workspace admins and
owners (users.info `is_admin` / `is_owner`) through the real webhook and the fake Slack Web API,
asked once per member and kept for a few minutes. Configured admins need no lookup."""

from __future__ import annotations

import pytest

from bot.platforms.admins import ADMIN_TTL_SECONDS
from handlers.curation import REFUSAL
from tests.fakes.slack_api import BOT_TOKEN as SLACK_TOKEN
from tests.integration.conftest import GROUP, base_config
from tests.integration.test_platforms_e2e import SLACK_CHANNEL, SLACK_SECRET, post_slack, slack_event

QUESTION = "财付通的哪些业务算发卡行的功能？"  # answered unprompted from the bundled sample day
ASKED_AT = "1764000000.000100"


@pytest.fixture
async def slack_bot(make_bot, slack_api, tmp_path):
    raw = base_config(tmp_path, answer={"cooldown_seconds": 0, "answer_threshold": 0.02, "suggest_threshold": 0.01},
                      platforms={"slack": {"signing_secret": SLACK_SECRET, "bot_token": SLACK_TOKEN,
                                           "bot_user_id": "UARCHBOT1", "api_base": slack_api.api_base}},
                      chats=[{"platform": "slack", "chat_id": SLACK_CHANNEL, "group": GROUP, "admins": ["U0CONF"]}])
    return await make_bot(raw)


class Thread:
    """Commands posted in the question's thread (Slack's way of replying to the bot's answer)."""

    def __init__(self, bot, api, clock) -> None:
        self.bot, self.api, self.clock, self.n = bot, api, clock, 0

    async def say(self, text: str, user: str) -> str:
        self.n += 1
        event = slack_event(text, ts=f"1764000100.{self.n:06d}", user=user, event_id=f"EvA{self.n}",
                            thread_ts=ASKED_AT)
        assert (await post_slack(self.bot, event, self.clock)).status == 200
        return self.api.posted()[-1]["text"]

    def lookups(self, user: str) -> int:
        return sum(1 for r in self.api.requests if r.path == "/api/users.info" and r.form.get("user") == user)


async def test_slack_workspace_admins_and_owners_may_curate_and_are_asked_once(slack_bot, slack_api, fake_clock):
    await post_slack(slack_bot, slack_event(QUESTION, ts=ASKED_AT), fake_clock)
    assert len(slack_api.posted()) == 1  # the answer, in the question's thread
    thread = Thread(slack_bot, slack_api, fake_clock)
    slack_api.users.update({"U0MEMBER": {}, "U0ADMIN": {"is_admin": True}, "U0OWNER": {"is_owner": True}})

    assert REFUSAL in await thread.say("/hide", "U0MEMBER")
    assert REFUSAL in await thread.say("/hide", "U0MEMBER")
    assert thread.lookups("U0MEMBER") == 1  # kept: a burst of commands is one lookup
    assert "已隐藏" in await thread.say("/hide", "U0ADMIN")
    assert "已取消置顶和隐藏" in await thread.say("/unpin", "U0OWNER")
    assert "已隐藏" in await thread.say("/hide", "U0CONF")  # a configured admin: Slack is not asked
    assert thread.lookups("U0CONF") == 0 and thread.lookups("U0ADMIN") == 1

    slack_api.users["U0ADMIN"] = {"is_admin": False}  # demoted in Slack: seen once the answer is old
    assert "已取消置顶和隐藏" in await thread.say("/unpin", "U0ADMIN")
    fake_clock.advance(ADMIN_TTL_SECONDS + 1)
    assert REFUSAL in await thread.say("/hide", "U0ADMIN")
    assert thread.lookups("U0ADMIN") == 2
    assert REFUSAL in await thread.say("/hide", "U0GONE")  # Slack does not know them: refused, not an error
