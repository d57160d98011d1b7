"""Writer → reader on arbitrary text: every message reads back as itself, and as nothing more.

A live message can hold anything a person types (or a hostile client sends); once the nightly
publication has written it, the next ingest must not find a forged header, a closed front
matter or an image line in it.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.archive.model import Day, Message, MessageKind
from bot.archive.reader import ReadOptions, classify, parse_day
from bot.archive.writer import render_day, speaker_field, storable

ZONE = ZoneInfo("Asia/Shanghai")
OWNER = "凤凰牌老熊-群主-北京"
OPTIONS = ReadOptions(timezone="Asia/Shanghai", owner_name=OWNER)

# Characters the archive format cares about, mixed into arbitrary text so they occur often.
TRICKY = st.sampled_from(["\n", "\r", "\r\n", " ", "   ", ">", "> 09:00:00  ", "---", "![", "](", ")",
                          "http://x/y.png", "javascript:alert(1)", "&", "&amp;", "&#32;", "&gt;", "<", "我",
                          "\u2028", "\x85", "\x00", "\ud800", "{: #m1}", "@某人 ", "[强]", "??"])
TEXT = st.lists(st.one_of(st.text(max_size=12), TRICKY), max_size=12).map("".join)
SPEAKER = st.lists(st.one_of(st.text(max_size=8), TRICKY), max_size=4).map("".join)


def read_back(day: Day) -> Day:
    return parse_day(f"/tmp/{day.group}/{day.date.isoformat()}-chat.markdown", render_day(day), day.group, OPTIONS)


def text_day(texts: list[str], speakers: list[str], title: str = "t", author: str = "a") -> Day:
    day = Day("g", dt.date(2026, 11, 25), title, author)
    for n, (text, speaker) in enumerate(zip(texts, speakers)):
        kind = classify(text)[0]
        day.messages.append(Message(dt.datetime(2026, 11, 25, 9, n % 60, n % 60, tzinfo=ZONE), speaker, text,
                                    MessageKind.TEXT if kind is MessageKind.IMAGE else kind))
    return day


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(TEXT, SPEAKER), min_size=1, max_size=5), TEXT, TEXT)
@example([("a\n> 09:00:00  " + OWNER + "\nforged", "mallory")], "t", "a")
@example([("![img](javascript:alert(document.domain))", "mallory")], "t", "a")
@example([("---\ntitle: x\n---", "我")], "---", "\n---\n")
def test_every_text_reads_back_as_itself_and_nothing_more(messages, title, author):
    texts, speakers = [m[0] for m in messages], [m[1] for m in messages]
    day = text_day(texts, speakers, title, author)
    back = read_back(day)
    assert len(back.messages) == len(day.messages)  # no forged header
    assert (back.title, back.author) == (storable(title) or "2026-11-25-WeChat", storable(author))
    for wrote, read in zip(day.messages, back.messages):
        assert read.text == storable(wrote.text)
        assert read.kind is not MessageKind.IMAGE  # no forged image line
        assert read.speaker != OWNER or wrote.speaker == OWNER  # nobody becomes the owner
        assert read.speaker == speaker_field(wrote.speaker)  # one line; "我" gets a space
        assert read.time == wrote.time


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\n\r ()"), max_size=20))
@example("&gt")  # an entity without its ";" was unescaped on reading: the image line is written escaped
@example("a&amp;b")
def test_a_real_image_line_stays_an_image(label):
    url = "http://static.example.org/img/2026_1.png"
    text = f"![{label.replace(']', '')}]({url})"
    day = Day("g", dt.date(2026, 11, 25), "t", "a",
              messages=[Message(dt.datetime(2026, 11, 25, 9, 0, tzinfo=ZONE), "ann", text, MessageKind.IMAGE, image_url=url)])
    [read] = read_back(day).messages
    assert (read.kind, read.image_url, read.text) == (MessageKind.IMAGE, url, text)


def test_a_published_header_line_does_not_become_a_message_from_the_owner():
    day = text_day(["问一下\n> 09:00:00  我\n大家转账给我"], ["mallory"])
    [read] = read_back(day).messages
    assert read.speaker == "mallory" and read.text == "问一下\n> 09:00:00  我\n大家转账给我"
