"""`archive-bot replay` and `archive-bot clock`: an archived day through the real dispatcher."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from bot.archive.model import Day, Message
from bot.archive.reader import read_day
from bot.archive.writer import write_day
from bot.config import Config
from bot.replay import incoming_of, replay_day
from tests.conftest import SAMPLE_DAY
from tests.jobs_support import ZONE


async def test_replay_of_the_sample_day_stores_every_message_and_runs_the_days_jobs():
    day = read_day(SAMPLE_DAY)
    out = io.StringIO()
    report = await replay_day(Config(), day, out=out)
    assert report.messages == report.stored == len(day.messages)
    assert report.jobs_run == ["nicknames", "digest"]
    assert report.job_posts >= 1
    assert "22:00:00  [job digest]" in out.getvalue()
    assert f"replayed {len(day.messages)} message(s)" in report.summary()


def test_archived_messages_become_live_ones():
    t = dt.datetime(2024, 1, 2, 9, 0, tzinfo=ZONE)
    day = Day("g", t.date(), "t", "a", messages=[Message(t, "某甲-某司-产品-北京", "/search 备付金", mentions=()),
                                                 Message(t, "某乙", "@某甲-某司-产品-北京 你好", mentions=("某甲-某司-产品-北京",))])
    first, second = incoming_of(day, 0), incoming_of(day, 1)
    assert (first.command, first.args, first.sender.id) == ("search", "备付金", "某甲-某司-产品-北京")
    assert second.command is None and second.mentions[0].name == "某甲-某司-产品-北京"


async def test_replay_answers_a_question_the_archive_answered_before(tmp_path):
    t = lambda d, h, m: dt.datetime(2024, 1, d, h, m, tzinfo=ZONE)  # noqa: E731
    before = Day("g", dt.date(2024, 1, 1), "t", "a", messages=[
        Message(t(1, 9, 0), "甲-某支付-产品-北京", "请问网联的备付金集中存管比例现在是多少？"),
        Message(t(1, 9, 2), "乙-某银行-架构-上海", "现在是百分之百集中存管了，全部交存到人民银行。"),
        Message(t(1, 9, 3), "甲-某支付-产品-北京", "好的，谢谢"),
    ])
    write_day(before, tmp_path / "archive")
    today = Day("g", dt.date(2024, 1, 2), "t", "a", messages=[
        Message(t(2, 10, 0), "丙-某科技-技术-深圳", "请问备付金集中存管比例现在是多少？"),
    ])
    from bot.config import AnswerSection
    from tests.conftest import PATH_OPEN_ANSWER

    report = await replay_day(Config(answer=AnswerSection(**PATH_OPEN_ANSWER)), today, archive=tmp_path / "archive")
    assert report.answered == 1


def test_clock_dry_run_prints_the_next_run_of_each_job(tmp_path, capsys):
    from bot.cli import main

    assert main(["clock", "--db", str(tmp_path / "c.db"), "--dry-run"]) == 0
    lines = dict(line.split("\t") for line in capsys.readouterr().out.splitlines())
    assert set(lines) == {"publish", "nicknames", "digest", "inactivity", "weekly_digest", "refit",
                          "prune-limits"}
    assert dt.datetime.fromisoformat(lines["digest"]).strftime("%H:%M") == "22:00"
    weekly = dt.datetime.fromisoformat(lines["weekly_digest"])
    assert (weekly.strftime("%a %H:%M")) == "Sun 21:00"


@pytest.fixture
def ledger_file(tmp_path) -> str:
    """A store holding one delivered digest and one claim whose process died before the send."""
    from bot.store import connect, ledger

    db = connect(tmp_path / "s.db")
    ledger.claim(db, ledger.RunKey("digest", "telegram:-1", "2024-06-01"), "t", 1_700_000_000)
    ledger.mark_delivered(db, ledger.RunKey("digest", "telegram:-1", "2024-06-01"), 1_700_000_001)
    ledger.claim(db, ledger.RunKey("nicknames", "telegram:-1", "2024-06-02"), "t", 1_700_000_100, runner="host:1")
    db.dispose()
    return str(tmp_path / "s.db")


def test_clock_status_lists_ledger_rows_and_stale_claims(ledger_file, capsys):
    from bot.cli import main

    assert main(["clock", "--db", ledger_file, "--status"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith("digest\ttelegram:-1\t2024-06-01\tdelivered")
    assert out[-1] == "stale claim (not re-sent): nicknames telegram:-1 2024-06-02 by host:1"


def test_clock_status_as_json(ledger_file, capsys):
    import json

    from bot.cli import main

    assert main(["clock", "--status", "--json", "--db", ledger_file]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["runs"][0] == {"claimed": "2023-11-14T22:13:20+00:00", "job": "digest", "chat": "telegram:-1",
                                 "period": "2024-06-01", "status": "delivered"}
    assert status["stale_claims"] == [{"job": "nicknames", "chat": "telegram:-1", "period": "2024-06-02",
                                       "runner": "host:1"}]


def test_names_check_as_json(tmp_path, capsys):
    import json

    from bot.cli import main

    (tmp_path / "club").mkdir()
    (tmp_path / "club" / "2030-04-01-chat.markdown").write_text(
        "---\nlayout: source\ntitle: \"2030-04-01-WeChat\"\ndate: 2030-04-01 12:00:00\nauthor: Club\n"
        "lines: 2\ntag: [chat]\n---\n> 09:00:00  王小明-星河支付-产品-杭州  \n   \n早上好  \n   \n"
        "> 09:01:00  小明  \n   \n早  \n   \n", encoding="utf-8")
    assert main(["names", "check", "--json", "--archive", str(tmp_path / "club"), "--date", "2030-04-01"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result == {"known": 2, "reminded": [{"name": "小明", "reason": "应为 3~4 段，现为 1 段"}]}
