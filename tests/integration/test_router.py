"""The transport-free parts of routing: registration, help text, limits, handler loading."""

from __future__ import annotations

import pytest

from bot.store import connect
from bot.dispatch import Limits, load_routers, question_key
from bot.config import Config
from bot.router import Router, combine, first_line, load_handlers
from bot.scheduler import default_jobs


def test_commands_register_under_every_name_case_insensitively():
    router = Router()

    @router.command("Search", "/搜索")
    async def search(ctx):
        """搜索群聊记录

        More text that is not the help line."""

    assert router.find_command("search").handler is search
    assert router.find_command("/SEARCH").handler is search
    assert router.find_command("搜索").handler is search
    assert router.find_command("ask") is None
    assert router.commands()[0].help == "搜索群聊记录"


def test_same_command_in_two_modules_is_refused():
    one, two = Router(), Router()

    @one.command("stats")
    async def a(ctx):
        """a"""

    @two.command("STATS")
    async def b(ctx):
        """b"""

    with pytest.raises(ValueError, match="/stats registered twice"):
        combine([one, two])


def test_hidden_commands_stay_out_of_help_but_route():
    router = Router()

    @router.command("purge", hidden=True)
    async def purge(ctx):
        """admin only"""

    assert router.commands() == []
    assert router.find_command("purge").handler is purge


def test_first_line_skips_blank_lines():
    assert first_line("\n\n  hello world  \n second") == "hello world"
    assert first_line(None) == ""


def test_rate_limit_is_a_sliding_minute_per_chat(tmp_path):
    limits = Limits(connect(tmp_path / "s.db"), replies_per_minute=3, cooldown_seconds=600)
    chat, other = ("telegram", "-1"), ("telegram", "-2")
    assert [limits.allow_reply(chat, t) for t in (0, 1, 2, 3)] == [True, True, True, False]
    assert limits.allow_reply(other, 3)  # another chat has its own budget
    assert not limits.allow_reply(chat, 59.9)
    assert limits.allow_reply(chat, 60.0)  # the reply at t=0 left the window


def test_cooldown_per_chat_and_normalised_question(tmp_path):
    limits = Limits(connect(tmp_path / "s.db"), replies_per_minute=100, cooldown_seconds=600)
    chat = ("slack", "C1")
    assert limits.first_time(chat, question_key("财付通 是发卡行吗？"), 0)
    assert not limits.first_time(chat, question_key("财付通是发卡行吗"), 599)
    assert limits.first_time(("slack", "C2"), question_key("财付通是发卡行吗"), 10)
    assert limits.first_time(chat, question_key("财付通是发卡行吗"), 600)


def test_handler_modules_load_with_help_first_and_autoanswer_last():
    router = load_handlers(Config())
    names = [name for route in router.commands() for name in route.names]
    assert names[:3] == ["help", "帮助", "start"]  # /help lists itself first
    fallbacks = router.of_kind("fallback")
    assert fallbacks and router.routes[-1] is fallbacks[-1]  # the auto-answerer is the last route
    assert {job.id for job in router.jobs} == {"publish", "nicknames", "digest", "inactivity", "rules",
                                               "refresh-answers", "weekly_digest", "refit", "prune-limits"}


PLUGIN = '''
from bot.router import Router

router = Router("greet", order=5)


@router.command("hello", "你好")
async def hello(ctx):
    """— says hello"""
    await ctx.reply("hello")


@router.job("greet-daily", at="digest_time")
async def greet_daily(ctx):
    """posts nothing"""
'''


def test_a_module_named_in_the_config_brings_its_commands_and_jobs(tmp_path, monkeypatch):
    package = tmp_path / "myplugins"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "greet.py").write_text(PLUGIN, encoding="utf-8")
    (package / "helpers.py").write_text("SHARED = 1\n")  # no router: skipped inside a package
    monkeypatch.syspath_prepend(str(tmp_path))
    config = Config.model_validate({"bot": {"handlers": ["handlers", "myplugins"]}})
    router = load_handlers(config)
    assert router.find_command("你好").help == "— says hello"
    assert router.find_job("greet-daily") is not None
    assert [spec.id for spec in default_jobs(config)].count("greet-daily") == 1
    alone = load_routers(["myplugins.greet"])
    assert [route.names for route in alone.commands()] == [("hello", "你好")]
    with pytest.raises(ValueError, match="no `router"):
        load_routers(["myplugins.helpers"])


def test_a_job_needs_one_schedule_and_one_id():
    router = Router()
    with pytest.raises(ValueError, match="either"):
        router.job("x")
    with pytest.raises(ValueError, match="either"):
        router.job("x", at="digest_time", every=60)

    async def one(ctx): ...

    async def two(ctx): ...

    router.job("x", at="digest_time")(one)
    with pytest.raises(ValueError, match="registered twice"):
        router.job("x", every=60)(two)
