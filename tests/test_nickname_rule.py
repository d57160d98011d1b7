"""Rule 2.5 as data, and the seed day: the nine members the admin reminded must be flagged.

Real names are not typed here: they are read from the bundled sample day (the 06:45:13 reminder's
mentions, and the speakers of three messages whose names conform).
"""

from __future__ import annotations

import datetime as dt

import pytest

from bot.archive.reader import read_day
from bot.commands.jobs import names_check
from bot.config import Config, NicknameSection
from bot.nickname_rule import Candidate, NicknameRule, batches, non_conforming, plan
from tests.conftest import SAMPLE_DAY

RULE = NicknameRule.from_config(NicknameSection())


@pytest.mark.parametrize("name", ["张三-某支付-产品-上海", "张三－某支付－产品－上海", "张三—某支付—产品", "张三_某支付_产品",
                                  "张三~某支付~产品", "张三～某支付～产品～深圳", "张三|某支付|架构师", "Amy-Acme Pay-PM-SH"])
def test_conforming_names(name):
    assert RULE.check(name).ok


@pytest.mark.parametrize("name,why", [
    ("张三", "段"), ("张三-某支付", "段"), ("张三-某支付-产品-上海-浦东", "段"), ("张三--产品-上海", "空"),
    ("张三-产品-上海", "岗位"), ("", "空"), ("张三 某支付 产品", "段")])
def test_non_conforming_names_say_why(name, why):
    verdict = RULE.check(name)
    assert not verdict.ok and why in verdict.reason


def test_rule_is_configurable():
    spaced = NicknameRule.from_config(NicknameSection(spaces_separate=True, company_not_role=False))
    assert spaced.check("张三 某支付 产品").ok
    assert spaced.check("张三-产品-上海").ok
    strict = NicknameRule.from_config(NicknameSection(separators=["-"], min_parts=4, max_parts=4))
    assert not strict.check("张三_某支付_产品_上海").ok and strict.check("张三-某支付-产品-上海").ok
    assert NicknameRule.from_config(NicknameSection(rule_text="改名！")).text == "改名！"


def test_exemptions_and_grace_period():
    now = int(dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc).timestamp())
    people = [Candidate("1", "owner"), Candidate("2", "robot", is_bot=True), Candidate("3", "allowed"),
              Candidate("4", "newbie", joined_ts=now - 86400), Candidate("5", "old", joined_ts=now - 5 * 86400),
              Candidate("6", "plain")]
    flagged = non_conforming(RULE, people, {"owner", "3"}, now, grace_days=3)
    assert [c.key for c, _ in flagged] == ["5", "6"]


def test_plan_reminds_escalates_once_and_resets():
    a, b, c = Candidate("a", "A"), Candidate("b", "B"), Candidate("c", "C")
    todo = plan([a, b, c], {"b": (2, None), "c": (2, 1234), "gone": (1, None)}, threshold=2)
    assert [x.key for x in todo.remind] == ["a"]
    assert [x.key for x in todo.escalate] == ["b"]  # c was already listed to the admins
    assert todo.reset == ["gone"]


def test_batches():
    assert batches(list(range(5)), 2) == [[0, 1], [2, 3], [4]]
    assert batches([], 3) == []


def test_seed_day_flags_the_nine_reminded_members():
    day = read_day(SAMPLE_DAY)
    by_time = {m.time.strftime("%H:%M:%S"): m for m in day.messages}
    reminder = by_time["06:45:13"]
    nine = list(reminder.mentions)
    assert len(nine) == 9
    config = Config()
    assert reminder.speaker == config.bot.owner_name  # "我" is the owner, who is exempt
    flagged = dict(names_check([day], nine, config))
    assert set(nine) <= set(flagged)
    # Conforming names of the day pass, whatever the separator (ASCII or full-width hyphen).
    for time in ("09:18:40", "08:05:08", "08:59:56"):
        assert by_time[time].speaker not in flagged
        assert RULE.check(by_time[time].speaker).ok
    assert config.bot.owner_name not in flagged


def test_names_check_command(tmp_path, capsys):
    from bot.cli import main

    members = tmp_path / "members.txt"
    members.write_text("王五\n赵六-某银行-产品-北京\n\n", encoding="utf-8")
    assert main(["names", "check", "--archive", str(SAMPLE_DAY.parent.parent), "--date", "2018-02-28",
                 "--members", str(members)]) == 0
    out, err = capsys.readouterr()
    lines = dict(line.split("\t") for line in out.splitlines())
    assert "王五" in lines and "赵六-某银行-产品-北京" not in lines
    day = read_day(SAMPLE_DAY)
    speakers = {m.speaker for m in day.messages}
    spoke = [name for name in day.messages[0].mentions if name in speakers]
    assert spoke and all(name in lines for name in spoke)  # reminded members who spoke that day
    assert "would be reminded" in err


def test_a_parts_range_upside_down_is_a_config_error(tmp_path):
    from bot.config import ConfigError, load_config

    path = tmp_path / "c.toml"
    path.write_text("[nicknames]\nmin_parts = 4\nmax_parts = 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="nicknames.max_parts"):
        load_config(path, environ={})


def test_the_rule_text_states_the_configured_reminder_count():
    from bot.config import NicknameSection

    assert "经 2 次提醒" in NicknameRule.from_config(NicknameSection()).text
    assert "经 3 次提醒" in NicknameRule.from_config(NicknameSection(reminders_before_escalation=3)).text
    assert NicknameRule.from_config(NicknameSection(rule_text="自定义")).text == "自定义"
