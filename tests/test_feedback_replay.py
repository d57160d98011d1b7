"""A replayed day (`archive-bot replay`) where a member flags the bot's answer wrong: the same
question and a paraphrase later that day get no unprompted answer; without the flag they do.
All names are invented; the earlier archive is a day written here."""

from __future__ import annotations

import datetime as dt
import io

from bot.archive.model import Day, Message
from bot.archive.writer import write_day
from bot.config import Config
from bot.replay import replay_day
from tests.jobs_support import ZONE

QUESTION = "请问网联的备付金集中存管比例现在是多少？"
PARAPHRASE = "网联现在备付金集中存管的比例是多少呢？"
ANSWERED = "这个问题群里讨论过"


def t(d: int, h: int, m: int) -> dt.datetime:
    return dt.datetime(2024, 1, d, h, m, tzinfo=ZONE)


def earlier(folder) -> None:
    write_day(Day("g", dt.date(2024, 1, 1), "t", "a", messages=[
        Message(t(1, 9, 0), "甲-某支付-产品-北京", QUESTION),
        Message(t(1, 9, 2), "乙-某银行-架构-上海", "现在是百分之百集中存管了，全部交存到人民银行。"),
        Message(t(1, 9, 3), "甲-某支付-产品-北京", "好的，谢谢"),
    ]), folder)


def replayed(flag: bool) -> Day:
    lines = [Message(t(2, 10, 0), "丙-某科技-技术-深圳", QUESTION)]
    if flag:
        lines.append(Message(t(2, 10, 1), "丁-某清算-运营-广州", "/wrong"))
    lines += [Message(t(2, 10, 30), "戊-某收单-风控-杭州", QUESTION),
              Message(t(2, 11, 0), "己-某银行-合规-成都", PARAPHRASE)]
    return Day("g", dt.date(2024, 1, 2), "t", "a", messages=lines)


async def replay(tmp_path, flag: bool) -> str:
    earlier(tmp_path / "archive")
    config = Config.model_validate({"encoder": {"kind": "none"},  # the answer path open: tests/conftest.py
                                    "answer": {"cooldown_seconds": 0, "answer_threshold": 0.02, "suggest_threshold": 0.01}})
    out = io.StringIO()
    await replay_day(config, replayed(flag), archive=tmp_path / "archive", out=out)
    return out.getvalue()


async def test_without_feedback_the_question_and_its_paraphrase_are_answered_each_time(tmp_path):
    assert (await replay(tmp_path, flag=False)).count(ANSWERED) == 3


async def test_a_flagged_wrong_answer_is_not_posted_again_that_day(tmp_path):
    out = await replay(tmp_path, flag=True)
    assert out.count(ANSWERED) == 1
    assert "收到，谢谢反馈。" in out
