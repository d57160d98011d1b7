"""The digest's content on an invented day (tests/data/digest): a talk, a Q&A, chit-chat and
check-ins. Expected values were read off the fixture by hand, not recomputed with the code."""

from __future__ import annotations

import datetime as dt

from bot.archive.model import Day, Message, MessageKind
from bot.archive.reader import read_day
from bot.digest import build_digest, render
from bot.topics import Background
from tests.conftest import DATA

DIGEST_DAY = DATA / "digest" / "digestclub" / "2024-05-14-chat.markdown"
ZONE = dt.timezone(dt.timedelta(hours=8))
RITUALS = ("签到", "早上好", "红包", "新年快乐", "快乐", "谢谢", "欢迎", "有人在吗")


def test_the_talk_and_the_qa_are_the_discussions_in_that_order():
    digest = build_digest(read_day(DIGEST_DAY, "digestclub"), base_url="https://bot.example.org")
    talk, qa = digest.discussions  # the morning greetings and the lunch chat are no discussion
    assert talk.title == "清结算系统的对账设计"  # announced "今晚请梁八给大家分享清结算系统的对账设计"
    assert (f"{talk.start:%H:%M}", f"{talk.end:%H:%M}", talk.participants) == ("19:55", "20:11", 4)
    assert talk.carriers[0] == ("梁八-远景支付-架构-北京", 7)  # his seven lines; 签到 and applause are no part
    assert {k.speaker for k in talk.key_lines} <= {"梁八-远景支付-架构-北京", "陈七-白云科技-架构-西安", "孙三-北斗支付-风控-深圳"}
    assert talk.link == "https://bot.example.org/archive/digestclub/2024-05-14#t-195500"
    assert qa.title == "请问跨行转账的差错退汇一般怎么处理？"  # the opening question, to its first "？"
    assert (f"{qa.start:%H:%M}", f"{qa.end:%H:%M}", qa.participants) == ("10:15", "10:22", 3)
    assert qa.carriers[0] == ("郑五-青松支付-产品-成都", 3)


def test_only_the_open_question_worth_answering_is_listed():
    digest = build_digest(read_day(DIGEST_DAY, "digestclub"))
    # Not "早上好，有人在吗？" (presence), not "@何二 你们那边几点下班？" (put to one member),
    # not the answered ones, not "中午吃啥" (too short to be a question).
    assert [(f"{q.time:%H:%M}", q.text) for q in digest.questions] == [
        ("15:00", "有人了解跨境收单的外汇申报流程吗？需要准备哪些材料？")]


def test_the_rendered_digest_reads_in_order():
    text = render(build_digest(read_day(DIGEST_DAY, "digestclub")))
    assert text.index("💬 今日讨论") < text.index("1. 清结算系统的对账设计") < text.index("2. 请问跨行转账")
    assert text.index("2. 请问跨行转账") < text.index("❓ 值得回答的问题") < text.index("15:00 冯四：有人了解跨境收单")
    assert "19:55–20:11 · 4 人参与 · 梁八、陈七 主聊" in text
    assert "中午吃啥" not in text and "签到" not in text
    markdown = render(build_digest(read_day(DIGEST_DAY, "digestclub")), markdown=True)
    assert "*1. *" not in markdown and "1. *清结算系统的对账设计*" in markdown


def _greetings_day() -> Day:
    t = lambda h, m: dt.datetime(2024, 1, 1, h, m, tzinfo=ZONE)  # noqa: E731
    lines = [("甲", "新年快乐！"), ("乙", "签到"), ("丙", "签到"), ("丁", "祝大家新年快乐，万事如意，身体健康！"),
             ("戊", "新年快乐，万事如意，身体健康"), ("己", "大家新年好，有人在吗？"), ("庚", "微信红包"),
             ("辛", "谢谢老板"), ("壬", "新年快乐吗？哈哈"), ("癸", "签到[强]"), ("甲", "元旦快乐，恭喜发财"),
             ("乙", "祝群主新年快乐，祝各位新年快乐，万事如意")]
    return Day("g", dt.date(2024, 1, 1), "t", "a",
               messages=[Message(t(9, i), speaker, text, MessageKind.TEXT) for i, (speaker, text) in enumerate(lines)])


def test_greetings_and_check_ins_are_never_questions_topics_or_discussions():
    digest = build_digest(_greetings_day())
    assert (digest.discussions, digest.questions) == ([], [])
    assert [t for t in digest.topics if any(r in t or t in r for r in RITUALS)] == []
    fixture = build_digest(read_day(DIGEST_DAY, "digestclub"))
    assert [t for t in fixture.topics if any(r in t for r in RITUALS)] == []
    assert [q.text for q in fixture.questions if any(r in q.text for r in RITUALS)] == []


def test_words_every_day_has_are_not_topics():
    day = read_day(DIGEST_DAY, "digestclub")
    t = dt.datetime(2024, 5, 1, 9, 0, tzinfo=ZONE)
    # Eight earlier days that all talk about 交易 and 资金: background words, not this day's topics.
    earlier = [Day("digestclub", dt.date(2024, 5, n), "t", "a", messages=[
        Message(t, "甲", "今天的交易资金到账了吗"), Message(t, "乙", "交易资金一般T+1到账")]) for n in range(1, 9)]
    plain = build_digest(day).topics
    against = build_digest(day, background=Background.of_days(earlier)).topics
    assert "交易" in plain and "资金" in plain
    assert "交易" not in against and "资金" not in against and "对账" in against


def test_key_lines_are_cut_to_a_sentence_and_lose_the_address():
    from bot.discussions import central_sentence, without_address

    assert without_address("@林一 Lin|星海 对账文件按流水号勾对", {"林一 Lin"}) == "对账文件按流水号勾对"
    assert without_address("对账文件按流水号勾对 @林一", {"林一"}) == "对账文件按流水号勾对 @林一"
    long = ("二.差错处理 1.长款短款分开挂账，长款查明后退回或入收入，短款要追回；"
            "2.差错池每天要清零，差错处理要有复核，复核后才能调账；3.差错报表每天发给运营和财务")
    cut = central_sentence(long, Background())
    assert cut.startswith("二.差错处理：") and len(cut) <= 60


def test_a_question_title_ends_at_its_first_question_mark_when_that_stands_alone():
    from bot.discussions import question_title

    assert question_title("缓冲记账机制？能解释一下这个概念吗？头回听说") == "缓冲记账机制？能解释一下这个概念吗？"
    assert question_title("有人看过这篇文章吗？现在开虚拟户后还能转账到同名虚拟户？") == "有人看过这篇文章吗？现在开虚拟户后还能转账到同名虚拟户？"
    assert question_title("上游渠道对账文件和谁对账？ 业务流水| 上游渠道对账文件和账户系统") == "上游渠道对账文件和谁对账？"


def test_hostile_lines_leave_a_bounded_digest():
    t = lambda m: dt.datetime(2024, 5, 20, 9, m, tzinfo=ZONE)  # noqa: E731
    hostile = ["请问对账文件\x00怎么下载？", "\ud800请问差错怎么处理？", "对账" * 50_000 + "？", "*[_`" * 200 + "请问？",
               "@" + "名" * 5000 + " 请问清算流水怎么对账？", "「 " + "甲" * 3000 + ": 对账 」 对账文件怎么勾对？"]
    day = Day("g", dt.date(2024, 5, 20), "t", "a", messages=[
        Message(t(n), f"说话人{n % 3}", text) for n, text in enumerate(hostile * 3)])
    text = render(build_digest(day), markdown=True)
    assert max(len(line) for line in text.splitlines()) < 300
