"""Splitting a day into conversations (bot/conversations.py), on invented days checked by hand."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from bot.archive.model import Day, Message, MessageKind
from bot.archive.reader import read_day
from bot.conversations import content, is_chatter, quoted, split_day
from tests.conftest import DATA

DIGEST_DAY = DATA / "digest" / "digestclub" / "2024-05-14-chat.markdown"
ZONE = dt.timezone(dt.timedelta(hours=8))


def _times(day: Day) -> list[list[str]]:
    return [[f"{m.time:%H:%M:%S}" for m in c.messages(day)] for c in split_day(day)]


def test_the_fixture_day_splits_into_its_talks():
    day = read_day(DIGEST_DAY, "digestclub")
    assert _times(day) == [
        ["08:00:05", "08:00:30", "08:01:10", "08:01:40", "08:02:00", "08:02:30", "08:02:50", "08:03:10"],
        ["08:04:00", "08:04:30", "08:05:00"],  # a question opens its own talk, the laughs follow it
        ["10:15:00", "10:16:30", "10:17:20", "10:19:40", "10:21:00", "10:21:30", "10:22:00"],
        ["12:30:00", "12:30:40", "12:31:00", "12:31:30"],
        ["15:00:00"],
        ["16:30:00"],
        ["19:55:00", "19:55:30", "19:55:40", "19:56:00", "20:00:00", "20:01:00", "20:02:30", "20:04:00",
         "20:05:00", "20:05:30", "20:06:00", "20:07:00", "20:08:00", "20:09:00", "20:10:00", "20:10:30", "20:11:00"],
    ]


def _day(lines: list[tuple[str, str, str]]) -> Day:
    messages = []
    for hhmm, speaker, text in lines:
        hour, minute = map(int, hhmm.split(":"))
        kind = MessageKind.TEXT if not text.startswith("[") else MessageKind.EMOJI
        messages.append(Message(dt.datetime(2024, 5, 20, hour, minute, tzinfo=ZONE), speaker, text, kind,
                                tuple(w[1:] for w in text.split() if w.startswith("@"))))
    return Day("g", dt.date(2024, 5, 20), "t", "a", messages=messages)


def test_interleaved_talks_follow_vocabulary_quotes_and_mentions():
    day = _day([
        ("09:00", "甲", "备付金集中存管以后利息怎么算？"),
        ("09:01", "乙", "聚合支付的收单外包备案要准备什么材料？"),
        ("09:02", "丙", "集中存管后备付金没有利息了，央行不付息"),
        ("09:03", "丁", "收单外包备案要营业执照和外包协议"),
        ("09:05", "甲", "那存管银行的账户管理费谁出"),
        ("09:40", "戊", "「 丁: 收单外包备案要营业执照和外包协议 」 - - - - - - - 还要风险评估报告"),
        ("09:41", "己", "@甲 管理费一般是支付机构出"),
    ])
    assert _times(day) == [["09:00:00", "09:02:00", "09:05:00", "09:41:00"], ["09:01:00", "09:03:00", "09:40:00"]]


def test_a_silence_ends_a_talk_and_applause_joins_what_it_applauds():
    day = _day([
        ("09:00", "甲", "备付金集中存管以后利息怎么算？"),
        ("09:02", "乙", "集中存管后备付金没有利息了"),
        ("09:03", "丙", "[强]"),
        ("11:00", "丁", "备付金集中存管的时间表出来了吗？"),
    ])
    assert _times(day) == [["09:00:00", "09:02:00", "09:03:00"], ["11:00:00"]]


def test_what_a_line_says():
    assert quoted("「 王二-某行: 先核对流水 」 - - - - 用哪个字段？") == ("王二-某行", "先核对流水")
    assert content("「 王二-某行: 先核对流水 」 - - - - 用哪个字段？") == "用哪个字段"
    assert content("@张三 你好[强] https://x.org/a") == "你好"
    t = dt.datetime(2024, 5, 20, 9, 0, tzinfo=ZONE)
    chatter = ["签到", "签到[强]", "微信红包", "谢谢老板", "大家早上好", "新年快乐！", "+1", "哈哈哈", "欢迎欢迎", "学习了", "好"]
    assert [text for text in chatter if not is_chatter(Message(t, "x", text))] == []
    said = ["请问跨行转账的差错退汇怎么处理？", "退汇要先核对原交易流水", "红包补贴的账务怎么记？", "T+1"]
    assert [text for text in said if is_chatter(Message(t, "x", text))] == []
    assert is_chatter(Message(t, "x", "![](https://img.example.org/a.png)", MessageKind.IMAGE))


def test_a_line_that_answers_the_one_before_joins_its_talk():
    day = _day([
        ("16:00", "甲", "话费支付的通道按省份覆盖，运营商各省公司都能发放通道"),
        ("16:01", "甲", "短代模式直接提交订单信息完成扣费"),
        ("16:10", "乙", "按你这样说，购买SP业务要不要预付卡牌照？"),
        ("16:11", "甲", "归工信部管，有SP证就行"),
        ("16:40", "丙", "有人做过跨境收单的外汇申报吗？"),
    ])
    assert _times(day) == [["16:00:00", "16:01:00", "16:10:00", "16:11:00"], ["16:40:00"]]


def test_reply_links_come_first():
    day = _day([
        ("09:00", "甲", "备付金集中存管以后利息怎么算？"),
        ("09:01", "乙", "聚合支付的收单外包备案要准备什么材料？"),
        ("09:50", "丙", "没有了"),  # says nothing on its own, long after: only its reply link places it
    ])
    day.messages = [replace(m, id=f"m{n}") for n, m in enumerate(day.messages)]
    day.messages[2] = replace(day.messages[2], reply_to="m0")
    assert _times(day) == [["09:00:00", "09:50:00"], ["09:01:00"]]
