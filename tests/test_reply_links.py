"""Reply links: the archive format's optional attribute line, the store, and mining that uses them first."""

from __future__ import annotations

import datetime as dt
import hashlib
from zoneinfo import ZoneInfo

import pytest

from bot.archive.links import anchor, links_line, parse_links
from bot.archive.model import Day, Message
from bot.archive.reader import find_day_files, parse_day, read_day
from bot.archive.writer import render_day, write_day
from bot.config import SAMPLE_ARCHIVE
from bot.qa.mining import mine_day
from bot.store.db import connect
from bot.store.ingest import ingest_day, ingest_paths
from bot.store.queries import load_day

ZONE = ZoneInfo("Asia/Shanghai")
DATE = dt.date(2031, 5, 6)
# sha256 of the sample day as the writer rendered it before reply links existed: unchanged.
SAMPLE_RENDER_SHA256 = "cc751b0b3305db55be8a30ddfe0405c1f1738359d56ba775225770f499325f75"


def at(hour: int, minute: int, second: int = 0) -> dt.datetime:
    return dt.datetime.combine(DATE, dt.time(hour, minute, second), tzinfo=ZONE)


def msg(time: dt.datetime, speaker: str, text: str, id: str | None = None, reply_to: str | None = None) -> Message:
    return Message(time=time, speaker=speaker, text=text, id=id, reply_to=reply_to)


def linked_day() -> Day:
    return Day("testgroup", DATE, f"{DATE}-Telegram", "archive-bot import", messages=[
        msg(at(9, 0), "林小溪", "请问退款到账一般要几天？", id="m100"),
        msg(at(9, 1), "周大川", "今天午饭吃什么", id="m101"),
        msg(at(11, 30), "陈一鸣", "原路退回一般1到3个工作日，信用卡可能要7天。", id="m102", reply_to="m100"),
        msg(at(11, 31), "林小溪", "信用卡为什么更慢呢？", id="m103", reply_to="m102"),
        msg(at(11, 35), "陈一鸣", "要等发卡行入账，账单日前后还会更久。", id="m104", reply_to="m103"),
        msg(at(11, 36), "周大川", "只回复不带编号的一行", reply_to="m101"),
        msg(at(12, 0), "何子涵", "有没有人知道跨境收单的结算周期是多少？"),
        msg(at(12, 2), "陈一鸣", "跨境收单一般T+7结算，看收单机构。"),
    ])


def test_anchor_makes_any_platform_id_a_kramdown_id_and_keeps_ids_apart():
    assert anchor(1042) == "m1042"
    assert anchor("1512085950.000216") == "m1512085950:2e000216"
    assert anchor("a.b") != anchor("a_b") != anchor("a:2eb")
    assert anchor("消息 7") == "m:e6:b6:88:e6:81:af:207"
    long = anchor("x" * 200)
    assert long.startswith("h") and len(long) == 33
    for raw in ("1042", "1512085950.000216", "消息 7", "x" * 200, "-5", ""):
        assert parse_links(links_line(anchor(raw), None)) == (anchor(raw), None)


def test_only_the_canonical_attribute_lines_are_links():
    assert parse_links('{: #m1 data-reply-to="m0"}') == ("m1", "m0")
    assert parse_links("{: #m1}") == ("m1", None)
    assert parse_links('{: data-reply-to="m0"}') == (None, "m0")
    for other in ("{:#m1}", "{: #m1 }", "{: .cls}", '{: data-reply-to="m0" #m1}', "{: #1abc}", "{: }", "{:}",
                  '{: #m1 data-reply-to="m 0"}', "{: #m1}  ", "   "):
        assert parse_links(other) is None, other
    with pytest.raises(ValueError):
        links_line("1042", None)  # a raw platform id must go through anchor()


def test_reply_links_survive_write_then_read(tmp_path):
    day = linked_day()
    path = write_day(day, tmp_path)
    text = path.read_text(encoding="utf-8")
    assert '> 11:30:00  陈一鸣  \n{: #m102 data-reply-to="m100"}\n   \n原路退回' in text
    assert '{: data-reply-to="m101"}' in text
    again = read_day(path, "testgroup")
    assert all(a.same_content(b) for a, b in zip(day.messages, again.messages, strict=True))
    assert [(m.id, m.reply_to) for m in again.messages][:3] == [("m100", None), ("m101", None), ("m102", "m100")]
    assert render_day(again) == text  # byte for byte
    lines = text.split("\n")
    assert lines[again.messages[2].line - 1] == "> 11:30:00  陈一鸣  "  # lines still name the header


def test_a_message_whose_text_looks_like_an_attribute_line_stays_text(tmp_path):
    day = Day("testgroup", DATE, "t", "a", messages=[msg(at(8, 0), "林小溪", '{: #m1 data-reply-to="m0"}')])
    again = read_day(write_day(day, tmp_path), "testgroup")
    assert (again.messages[0].text, again.messages[0].id, again.messages[0].reply_to) == (day.messages[0].text, None, None)


def test_existing_files_read_and_write_exactly_as_before():
    day = read_day(SAMPLE_ARCHIVE / "prodarch" / "2018-02-28-chat.markdown", "prodarch")
    assert all(m.id is None and m.reply_to is None for m in day.messages)
    rendered = render_day(day)
    assert hashlib.sha256(rendered.encode()).hexdigest() == SAMPLE_RENDER_SHA256
    assert render_day(parse_day(day.source, rendered, "prodarch")) == rendered


def test_every_shared_day_reads_without_links_and_round_trips_byte_for_byte(shared_archive):
    for group, path in find_day_files([shared_archive]):
        day = read_day(path, group)
        assert all(m.id is None and m.reply_to is None for m in day.messages), path
        rendered = render_day(day)
        assert "\n{: " not in rendered, path
        assert render_day(parse_day(path, rendered, group)) == rendered, path


def test_the_store_keeps_links_through_ingest_and_replacement(tmp_path):
    engine = connect(tmp_path / "s.db")
    day = linked_day()
    ingest_day(engine, day)
    stored = load_day(engine, "testgroup", DATE, ZONE)
    assert [(m.id, m.reply_to) for m in stored.messages] == [(m.id, m.reply_to) for m in day.messages]
    path = write_day(day, tmp_path / "archive")
    path.write_text(path.read_text(encoding="utf-8").replace('data-reply-to="m100"', 'data-reply-to="m101"'),
                    encoding="utf-8")
    report = ingest_paths(engine, [path.parent], workers=0)
    assert report.ok and report.messages == len(day.messages)
    stored = load_day(engine, "testgroup", DATE, ZONE)
    assert stored.messages[2].reply_to == "m101" and stored.messages[5].reply_to == "m101"
    assert all(a.same_content(b) for a, b in zip(read_day(path, "testgroup").messages, stored.messages, strict=True))


def test_mining_pairs_linked_replies_first_and_falls_back_to_the_rules():
    pairs = mine_day(linked_day())
    by_question = {p.question[0].text: [m.text for m in p.answers] for p in pairs}
    # two and a half hours later, after other talk: only the links can pair these
    assert by_question["请问退款到账一般要几天？"] == [
        "原路退回一般1到3个工作日，信用卡可能要7天。", "信用卡为什么更慢呢？", "要等发卡行入账，账单日前后还会更久。"]
    assert by_question["信用卡为什么更慢呢？"] == ["要等发卡行入账，账单日前后还会更久。"]
    # no links on this one: today's rules pair it, and never with a reply meant for someone else
    assert by_question["有没有人知道跨境收单的结算周期是多少？"] == ["跨境收单一般T+7结算，看收单机构。"]
    assert [p.question_seqs[0] for p in pairs] == [0, 3, 6]


def test_without_the_links_the_rules_alone_miss_the_late_answer():
    day = linked_day()
    plain = Day(day.group, day.date, day.title, day.author,
                messages=[msg(m.time, m.speaker, m.text) for m in day.messages])
    answered = {p.question[0].text for p in mine_day(plain)}
    assert "请问退款到账一般要几天？" not in answered
