"""The daily digest: the pure builder on the bundled sample day, the job through the fake Telegram
API (Markdown as HTML, the hour chart as a photo), 'this day in the archive', suggestions, /digest."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.archive.model import Day, Message
from bot.archive.reader import read_day
from bot.chat import Member
from bot.digest import build_digest, hour_chart_png, pick_replay, render
from bot.dispatch import Dispatcher, load_routers
from bot.qa.engine import AnswerEngine
from bot.scheduler import JobScheduler
from bot.store.ingest import ingest_day
from tests.conftest import SAMPLE_DAY
from tests.jobs_support import ADMIN, CHAT_ID, GROUP, ZONE, Clock, at, incoming, make_config, make_services, store

PNG = b"\x89PNG\r\n\x1a\n"
ASKER = Member("901", "郑一-庚支付-产品-成都")
HELPER = Member("902", "王二-辛银行-技术-西安")
QUIET = Member("903", "冯三-壬科技-运营-南京")


def test_builder_on_the_sample_day():
    day = read_day(SAMPLE_DAY)
    digest = build_digest(day)
    # Counted by hand in the day file: 146 "> HH:MM:SS  speaker" headers (its front matter says 143),
    # 32 distinct speakers, the most active with 33 messages, three image lines, and per hour:
    assert digest.message_count == 146 == sum(digest.hours)
    assert digest.participants == 32
    assert digest.top_members[0] == ("姚雪峰-通联-产品-上海", 33)
    assert digest.images == 3
    assert {hour: n for hour, n in enumerate(digest.hours) if n} == {
        6: 1, 7: 1, 8: 3, 9: 70, 12: 1, 13: 2, 16: 2, 17: 10, 18: 12, 19: 10, 20: 26, 21: 1, 23: 7}
    assert digest.discussions and all(d.participants >= 2 for d in digest.discussions)
    assert len(digest.topics) >= 5 and all(t not in {m.speaker for m in day.messages} for t in digest.topics)
    plain = render(digest)
    assert "消息 146 条" in plain and "*" not in plain.splitlines()[0]
    assert render(digest, markdown=True).startswith("*")
    assert hour_chart_png(digest).startswith(PNG)


def test_topics_leave_out_people_talked_about_by_name():
    t = lambda m: dt.datetime(2024, 3, 1, 10, m, tzinfo=ZONE)  # noqa: E731
    lines = ["蒋大伟说清结算系统的对账要做到T+1", "蒋大伟的清结算方案里对账文件按商户拆分",
             "清结算和对账是两回事，蒋大伟你怎么看", "对账差错处理要有挂账流程"]
    day = Day(GROUP, dt.date(2024, 3, 1), "t", "a",
              messages=[Message(t(i), "蒋大伟-某支付-产品-上海" if i == 3 else "沈二", text) for i, text in enumerate(lines)])
    topics = build_digest(day).topics
    assert "对账" in topics and "蒋大伟" not in topics


def test_replay_picks_an_exchange_with_a_deep_link():
    day = read_day(SAMPLE_DAY)
    replay = pick_replay(day, "https://bot.example.org")
    assert replay.date == day.date and 2 <= len(replay.lines) <= 4
    assert replay.link.startswith("https://bot.example.org/archive/prodarch/2018-02-28#t-")


def test_digest_command_prints_an_archived_day(tmp_path, capsys):
    from bot.cli import main

    chart = tmp_path / "chart.png"
    assert main(["digest", "--archive", str(SAMPLE_DAY.parent.parent), "--group", "prodarch",
                 "--date", "2018-02-28", "--chart", str(chart)]) == 0
    out = capsys.readouterr().out
    assert "prodarch 群日报 2018-02-28" in out and "💬 今日讨论" in out
    assert chart.read_bytes().startswith(PNG)
    assert main(["digest", "--archive", str(SAMPLE_DAY.parent.parent), "--group", "prodarch",
                 "--date", "2018-03-01"]) == 1
    assert "no day 2018-03-01 for group 'prodarch'" in capsys.readouterr().err


def _earlier_year() -> Day:
    """The same month-day a year before: an answered question that today's unanswered one repeats."""
    t = lambda h, m: dt.datetime(2023, 6, 1, h, m, tzinfo=ZONE)  # noqa: E731
    return Day(GROUP, dt.date(2023, 6, 1), "2023-06-01-WeChat", "test", messages=[
        Message(t(9, 0), QUIET.name, "请问聚合支付的二清问题怎么规避？"),
        Message(t(9, 4), HELPER.name, "资金不要过自己的账户，交易资金由持牌机构直接结算给商户就不算二清。"),
        Message(t(9, 6), QUIET.name, "懂了，谢谢"),
    ])


@pytest.fixture
async def env(tmp_path, telegram_api, http, fake_clock):
    config = make_config(tmp_path, telegram_api.api_base)
    clock = Clock(at(2024, 6, 1, 22, 0))
    services = make_services(config, http, clock, fake_clock)
    earlier = _earlier_year()
    ingest_day(services.db, earlier)
    services.answers = AnswerEngine.from_days([earlier], config.answer)
    await store(services, [
        incoming(ASKER, "请问有人用过银联的无感支付吗？", at(2024, 6, 1, 9, 0)),
        incoming(HELPER, "用过，停车场场景接得比较多，签约后自动扣款。", at(2024, 6, 1, 9, 2)),
        incoming(QUIET, "聚合支付的二清问题怎么规避？", at(2024, 6, 1, 15, 0)),
        incoming(ASKER, "![](https://img.example.org/a.png)", at(2024, 6, 1, 15, 30)),
    ])
    return services, clock


async def test_digest_job_posts_html_and_the_chart_once(env, telegram_api):
    services, clock = env
    await JobScheduler(services).trampoline("digest")
    (message,) = telegram_api.sent("sendMessage")
    text = message["text"]
    assert message["chat_id"] == CHAT_ID and message["parse_mode"] == "HTML"
    assert "<b>📋 testgroup 群日报 2024-06-01（截至 22:00）</b>" in text
    assert "消息 4 条，3 人发言，图片 1 张" in text
    questions = text[text.index("值得回答的问题"):]
    assert "二清" in questions and "无感支付" not in questions  # answered the same morning
    (tip,) = [line for line in text.splitlines() if "群档案里的参考" in line]  # a confident suggestion
    assert "（王二，2023-06-01）" in tip and "持牌机构" in tip
    assert "往年今日 2023-06-01" in text and "https://bot.example.org/archive/testgroup/2023-06-01#t-090000" in text
    (photo,) = [r for r in telegram_api.requests if r.path.endswith("/sendPhoto")]
    assert photo.files["photo"][1].startswith(PNG)
    await JobScheduler(services).trampoline("digest")
    assert len(telegram_api.sent("sendMessage")) == 1


async def test_previous_day_scope(env, tmp_path, telegram_api, http, fake_clock):
    services, clock = env
    config = services.config.model_copy(update={"schedule": services.config.schedule.model_copy(
        update={"digest_scope": "previous_day", "digest_chart": False})})
    services.config = config
    clock.now = at(2024, 6, 2, 8, 0)
    await JobScheduler(services).trampoline("digest")
    (message,) = telegram_api.sent("sendMessage")
    assert "群日报 2024-06-01</b>" in message["text"] and "截至" not in message["text"]
    assert telegram_api.sent("sendPhoto") == []


async def test_no_digest_for_a_silent_day(env, telegram_api):
    services, clock = env
    clock.now = at(2024, 6, 5, 22, 0)
    await JobScheduler(services).trampoline("digest")
    assert telegram_api.sent("sendMessage") == []


async def test_admin_digest_command(env, telegram_api):
    services, clock = env
    dispatcher = Dispatcher(services, load_routers(["handlers.admin"]))
    refused = await dispatcher.dispatch(incoming(ASKER, "/digest", clock.now, command="digest"))
    assert [o.text for o in refused] == ["抱歉，这个命令只有群管理员可以使用。"]
    await dispatcher.dispatch(incoming(ADMIN, "/digest", clock.now, command="digest"))
    digests = [m for m in telegram_api.sent("sendMessage") if "群日报" in m["text"]]
    assert len(digests) == 1
    await JobScheduler(services).trampoline("digest")  # the scheduled one still goes out once
    assert len([m for m in telegram_api.sent("sendMessage") if "群日报" in m["text"]]) == 2


async def test_digest_reports_the_days_answers_and_their_feedback(env, telegram_api):
    from bot.store import answers

    services, clock = env
    day_ts = int(at(2024, 6, 1, 10, 0).timestamp())
    for n, (kind, ts) in enumerate([("answer", day_ts), ("answer", day_ts), ("suggestion", day_ts),
                                    ("answer", day_ts - 86_400)]):  # the day before: not counted
        answer_id = answers.record(services.db, platform="telegram", chat_id=CHAT_ID, group=GROUP, kind=kind,
                                   prompted=False, question_message_id=f"q{n}", asker_id="7", question="问题",
                                   unit=f"exchange:{GROUP}:2023-06-01:{n}", score=0.8, ts=ts, message_ids=[f"b{n}"])
        answers.give(services.db, answer_id, "11", answers.WRONG if n == 1 else answers.RIGHT, "reaction", ts)
    answers.give(services.db, 1, "12", answers.RIGHT, "reply", day_ts)
    await JobScheduler(services).trampoline("digest")
    (message,) = telegram_api.sent("sendMessage")
    assert "机器人回答了 2 个问题，推荐了 1 次相关讨论；收到反馈：有用 3，不对 1。" in message["text"]


def test_a_suggestion_is_never_the_askers_own_old_answer():
    from bot.config import AnswerSection
    from handlers.digest import as_suggestion

    from tests.conftest import PATH_OPEN_ANSWER

    result = AnswerEngine.from_days([_earlier_year()], AnswerSection(**PATH_OPEN_ANSWER)).ask("聚合支付的二清问题怎么规避？")
    today = dt.date(2024, 6, 1)
    assert as_suggestion(result, today, "", QUIET.name).author == HELPER.name
    assert as_suggestion(result, today, "", HELPER.name) is None
    assert as_suggestion(result, dt.date(2023, 6, 1), "", QUIET.name) is None  # the same day is no archive
