"""Hand-written day files for each quirk of the export, and for each way a file can be broken.

All names and messages are invented; the shapes copy the real export byte for byte (two spaces
after the speaker and the text, one after an image line, "   " separator lines, tabs in front matter).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.archive.model import Day, Message, MessageKind
from bot.archive.reader import ArchiveError, ReadOptions, classify, mentions_in, parse_day, read_day, read_folder
from bot.archive.writer import render_day, write_day

DATA = Path(__file__).parent / "data" / "archive"
OPTIONS = ReadOptions(timezone="Asia/Shanghai", owner_name="群主-测试-北京")

FRONT = (
    "---\n"
    "layout:     source \n"
    'title:      "{date}-WeChat"\n'
    "date:       {date} 12:00:00\n"
    "author:     PayClub\n"
    "lines:      9 \n"
    "tag:\t\t  [chat]\n"
    "---\n"
)


def block(time: str, speaker: str, text: str) -> str:
    end = " " if text.startswith("![") else "  "
    return f"> {time}  {speaker}  \n   \n{text}{end}\n   \n"


def write(tmp_path: Path, body: str, date: str = "2021-05-06", front: str | None = None, group: str = "club") -> Path:
    path = tmp_path / group / f"{date}-chat.markdown"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text((FRONT.format(date=date) if front is None else front) + body, encoding="utf-8")
    return path


def read(tmp_path: Path, body: str, **kwargs):
    day = read_day(write(tmp_path, body, **kwargs), options=OPTIONS)
    again = parse_day(day.source, render_day(day), day.group, OPTIONS)  # every quirk must round trip
    assert len(again.messages) == len(day.messages)
    assert all(a.same_content(b) for a, b in zip(day.messages, again.messages))
    return day


def error_of(tmp_path: Path, raw: str, name: str = "2021-05-06-chat.markdown") -> ArchiveError:
    path = tmp_path / "club" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(raw.encode("utf-8") if isinstance(raw, str) else raw)
    with pytest.raises(ArchiveError) as caught:
        read_day(path, options=OPTIONS)
    assert caught.value.path == str(path)
    return caught.value


# --- message bodies ---------------------------------------------------------------------------

def test_multi_paragraph_and_empty_bodies(tmp_path):
    body = ("> 10:00:00  甲-某付-产品  \n   \n第一段  \n   \n第二段\n第三行  \n   \n"
            + block("10:00:05", "乙-某付-研发", ""))
    day = read(tmp_path, body)
    assert [m.text for m in day.messages] == ["第一段  \n   \n第二段\n第三行", ""]
    assert day.messages[1].kind is MessageKind.TEXT and day.messages[1].line == 16


def test_image_line_ends_in_one_space(tmp_path):
    url = "http://img.example.org/img/202105/20210506_101010.png"
    day = read(tmp_path, block("10:10:10", "丙-某付-架构", f"![2021-05-06 10:10:10]({url})"))
    (message,) = day.messages
    assert message.kind is MessageKind.IMAGE and message.image_url == url
    assert message.text == f"![2021-05-06 10:10:10]({url})" and message.mentions == ()


@pytest.mark.parametrize("text, kind", [
    ("[流汗]", MessageKind.EMOJI), ("[强][强]", MessageKind.EMOJI), ("??", MessageKind.EMOJI),
    ("[强] ??", MessageKind.EMOJI), ("好的[强]", MessageKind.TEXT), ("[收到了吗这是什么东西]", MessageKind.TEXT),
    ("?", MessageKind.TEXT),
])
def test_emoji_only_messages(tmp_path, text, kind):
    assert read(tmp_path, block("11:00:00", "丁-某付-运营", text)).messages[0].kind is kind
    assert classify(text) == (kind, None)


@pytest.mark.parametrize("text, mentions", [
    ("@张三-甲付-产品?你好", ("张三-甲付-产品",)),  # the export's "?" for U+2005
    ("@张三-甲付-产品\u2005你好", ("张三-甲付-产品",)),
    ("@Alice Wang 在吗", ("Alice",)),
    ("@甲@乙?一起看", ("甲", "乙")),
    ("@??小王??晚上好", ("??小王",)),  # a mangled emoji at the start belongs to the name
    ("写信到 ops@example.org 就行", ()),  # an e-mail address is not a mention
    ("结尾@某人", ("某人",)),
])
def test_mentions(tmp_path, text, mentions):
    assert read(tmp_path, block("12:00:00", "戊-某付-产品", text)).messages[0].mentions == mentions
    assert mentions_in(text) == mentions


def test_quoted_reply_red_packet_sign_in_and_file_names(tmp_path):
    quoted = "「 甲-某付-产品: 清算文件几点出？ 」 - - - - - - - - - - - - - - - 一般凌晨两点"
    body = (block("13:00:00", "乙-某付-研发", quoted) + block("13:00:09", "丙-某付-架构", "微信红包")
            + "".join(block(f"13:01:0{i}", f"签到人{i}", "签到") for i in range(4))
            + block("13:02:00", "丁-某付-运营", "2021年支付行业报告.pdf"))
    day = read(tmp_path, body)
    texts = [m.text for m in day.messages]
    assert texts == [quoted, "微信红包", "签到", "签到", "签到", "签到", "2021年支付行业报告.pdf"]
    assert all(m.kind is MessageKind.TEXT for m in day.messages)
    assert day.messages[0].mentions == ()


def test_double_escaped_entities(tmp_path):
    body = block("14:00:00", "甲-某付-产品", "A&amp;amp;B&amp;#160;C&amp;gt;100元 &amp;lt;xml&amp;gt; 引号&amp;amp;quot;")
    assert read(tmp_path, body).messages[0].text == "A&B\xa0C>100元 <xml> 引号&quot;"


def test_tabs_ideographic_spaces_and_space_runs_are_kept(tmp_path):
    text = "  前面两格\t制表符\u3000全角空格      六个空格 "
    assert read(tmp_path, block("14:30:00", "甲-某付-产品", text)).messages[0].text == text


@pytest.mark.parametrize("speaker", [
    "张三－甲付－产品", "李四～乙付～研发", "王五—丙付—架构", "赵六 | 丁付 | 运营", "钱七、戊付、产品",
    "孙八_己付_测试", "Tom Lee 庚付 上海", "周九[辛付]产品", "吴十(壬付)研发", "??郑一??", "冯二-癸付-产品 ",
])
def test_odd_display_names(tmp_path, speaker):
    assert read(tmp_path, block("15:00:00", speaker, "你好")).messages[0].speaker == speaker


def test_trailing_double_spaces_are_markdown_breaks_not_text(tmp_path):
    day = read(tmp_path, "> 15:10:00  甲-某付-产品  \n   \n你好  \n   \n")
    assert (day.messages[0].speaker, day.messages[0].text) == ("甲-某付-产品", "你好")


def test_owner_speaker_is_the_configured_owner(tmp_path):
    day = read(tmp_path, block("16:00:00", "我", "请改昵称") + block("16:00:01", "我们-某付-产品", "好"))
    assert [m.speaker for m in day.messages] == ["群主-测试-北京", "我们-某付-产品"]


def test_several_messages_in_one_second_keep_their_order(tmp_path):
    day = read(tmp_path, "".join(block("17:00:00", f"人{i}", f"第{i}条") for i in range(5)))
    assert [m.text for m in day.messages] == [f"第{i}条" for i in range(5)]
    assert len({m.time for m in day.messages}) == 1 and [m.line for m in day.messages] == [9, 13, 17, 21, 25]


def test_times_are_aware_in_the_configured_zone(tmp_path):
    path = write(tmp_path, block("23:30:00", "甲-某付-产品", "晚安"))
    shanghai = read_day(path, options=OPTIONS).messages[0].time
    utc = read_day(path, options=ReadOptions(timezone="UTC")).messages[0].time
    assert shanghai.utcoffset() == dt.timedelta(hours=8) and utc.utcoffset() == dt.timedelta(0)
    assert shanghai.isoformat() == "2021-05-06T23:30:00+08:00"


# --- front matter -----------------------------------------------------------------------------

@pytest.mark.parametrize("date_line", ["date:       2021-05-06 12:00:00", 'date:       "2021-05-06"',
                                       "date:\t2021-05-06", "date: '2021-05-06 08:00'"])
def test_front_matter_date_as_datetime_or_string(tmp_path, date_line):
    front = FRONT.format(date="2021-05-06").replace("date:       2021-05-06 12:00:00", date_line)
    assert read_day(write(tmp_path, block("08:00:00", "甲", "早"), front=front)).date == dt.date(2021, 5, 6)


@pytest.mark.parametrize("author_line, author", [
    ("author:     PayClub", "PayClub"), ('author:     "PayClub"', "PayClub"),
    ("author:     甲-某付", "甲-某付"), ("author:\t\tPayClub\t", "PayClub")])
def test_author_quoted_or_not_and_tabs(tmp_path, author_line, author):
    front = FRONT.format(date="2021-05-06").replace("author:     PayClub", author_line)
    assert read(tmp_path, block("08:00:00", "甲", "早"), front=front).author == author


def test_declared_lines_is_metadata_only(tmp_path):
    front = FRONT.format(date="2021-05-06")
    assert read(tmp_path, block("08:00:00", "甲", "早"), front=front).declared_lines == 9  # not 1: kept anyway
    no_lines = front.replace("lines:      9 \n", "")
    day = read_day(write(tmp_path, block("08:00:00", "甲", "早"), front=no_lines))
    assert day.declared_lines is None and len(day.messages) == 1


def test_empty_day_and_bundled_fixture_folder():
    days, errors = read_folder([DATA], OPTIONS)
    assert errors == [] and [d.group for d in days] == ["payclub"] * 3
    assert [len(d.messages) for d in days] == [9, 4, 1]
    assert days[0].messages[3].speaker == "群主-测试-北京"


def test_write_day_round_trip_through_a_file(tmp_path):
    day = read_day(DATA / "payclub" / "2021-03-01-chat.markdown", options=OPTIONS)
    path = write_day(day, tmp_path)
    assert path == tmp_path / "payclub" / "2021-03-01-chat.markdown"
    again = read_day(path, options=OPTIONS)
    assert (again.title, again.author, again.declared_lines) == (day.title, day.author, day.declared_lines)
    assert all(a.same_content(b) for a, b in zip(day.messages, again.messages, strict=True))
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left behind


@pytest.mark.parametrize("text", [
    "> 10:00:00  像是消息头", "a\n> 1:2 b", "第一段\n\n第二段", "结尾换行\n", "\n\n前面空行", " ", "   ", "x\n ",
    "   \nx", "tab\tend\t", "&amp; 字面", "<b>粗体</b>", "a  \n   \nb", "---", "---\nx: 1", "", "  ", "两个空格结尾  ",
    "emoji 😀 @某人 你好", "[强]", "??",
])
def test_live_texts_survive_the_writer(tmp_path, text):
    """The nightly publication writes live messages: whatever people type must read back the same."""
    kind, url = classify(text)
    message = Message(time=dt.datetime(2021, 5, 6, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")), speaker="甲-某付-产品",
                      text=text, kind=kind, mentions=mentions_in(text) if kind is MessageKind.TEXT else (),
                      image_url=url)
    day = Day("club", dt.date(2021, 5, 6), "2021-05-06-WeChat", "PayClub", None, [message, message])
    again = read_day(write_day(day, tmp_path), options=OPTIONS)
    assert [m.text for m in again.messages] == [text, text]
    assert all(m.same_content(message) for m in again.messages)


# --- broken files: each error names the file and the line ---------------------------------------

def test_date_disagreeing_with_file_name(tmp_path):
    path = write(tmp_path, block("08:00:00", "甲", "早"), front=FRONT.format(date="2021-05-07"), date="2021-05-06")
    with pytest.raises(ArchiveError) as caught:
        read_day(path)
    assert str(caught.value) == f"{path}:4: front matter date 2021-05-07 disagrees with the file name"


def test_no_front_matter(tmp_path):
    error = error_of(tmp_path, block("08:00:00", "甲", "早"))
    assert (error.line, error.reason) == (1, "no front matter: the file must start with '---'")


def test_front_matter_not_closed(tmp_path):
    error = error_of(tmp_path, FRONT.format(date="2021-05-06").rstrip("-\n") + "\n" + block("08:00:00", "甲", "早"))
    assert (error.line, error.reason) == (1, "front matter is not closed by a '---' line")


def test_block_without_timestamp(tmp_path):
    raw = FRONT.format(date="2021-05-06") + block("08:00:00", "甲", "早") + "> 乙-某付-产品  \n   \n晚  \n   \n"
    error = error_of(tmp_path, raw)
    assert str(error).endswith(":13: message header without a time '> 乙-某付-产品' (expected '> HH:MM:SS  Speaker')")


def test_text_before_the_first_header(tmp_path):
    error = error_of(tmp_path, FRONT.format(date="2021-05-06") + "   \n孤立的一行  \n" + block("08:00:00", "甲", "早"))
    assert (error.line, error.reason) == (10, "text before the first '> HH:MM:SS  Speaker' header")


@pytest.mark.parametrize("header, line, reason", [
    ("> 8:00:00  甲  ", 13, "malformed message header '> 8:00:00  甲'"),
    ("> 08:00  甲  ", 13, "malformed message header '> 08:00  甲'"),
    ("> 08:00:00 甲  ", 13, "malformed message header '> 08:00:00 甲'"),
    ("> 24:00:00  甲  ", 13, "impossible time 24:00:00"),
])
def test_malformed_headers(tmp_path, header, line, reason):
    raw = FRONT.format(date="2021-05-06") + block("07:00:00", "乙", "早") + f"{header}\n   \n晚  \n   \n"
    error = error_of(tmp_path, raw)
    assert (error.line, error.reason) == (line, reason)
    assert str(error) == f"{tmp_path / 'club' / '2021-05-06-chat.markdown'}:{line}: {reason}"


@pytest.mark.parametrize("date_line, reason", [
    ("date:       2021-13-45 12:00:00", "bad front matter value: month must be in 1..12"),
    ('date:       "2021-13-45"', "front matter date '2021-13-45' is not a date"),
    ("date:       soon", "front matter date 'soon' is not a date"),
    ("date:", "front matter has no date"),
])
def test_broken_dates(tmp_path, date_line, reason):
    raw = FRONT.format(date="2021-05-06").replace("date:       2021-05-06 12:00:00", date_line) + block("08:00:00", "甲", "早")
    error = error_of(tmp_path, raw)
    assert (error.line, error.reason) == (4, reason)


def test_bad_yaml_and_bad_lines_and_bad_encoding(tmp_path):
    bad_yaml = FRONT.format(date="2021-05-06").replace("author:     PayClub", "author:     [PayClub")
    assert error_of(tmp_path, bad_yaml).reason.startswith("bad front matter:")
    bad_lines = FRONT.format(date="2021-05-06").replace("lines:      9 ", "lines:      many")
    assert (error_of(tmp_path, bad_lines).line, error_of(tmp_path, bad_lines).reason) == (
        6, "front matter lines 'many' is not a number")
    raw = (FRONT.format(date="2021-05-06") + block("08:00:00", "甲", "早")).encode() + b"\xff\xfe broken\n"
    assert (error_of(tmp_path, raw).line, error_of(tmp_path, raw).reason) == (13, "not UTF-8 text")


def test_read_folder_reports_every_bad_file_and_keeps_the_good_ones(tmp_path):
    good = write(tmp_path, block("08:00:00", "甲", "早"), date="2021-05-06")
    write(tmp_path, "> 08:00:00  甲  \n", date="2021-05-07", front="")
    write(tmp_path, block("08:00", "甲", "早"), date="2021-05-08")
    days, errors = read_folder([tmp_path / "club"])
    assert [d.source for d in days] == [str(good)]
    assert [(Path(e.path).name, e.line) for e in errors] == [("2021-05-07-chat.markdown", 1), ("2021-05-08-chat.markdown", 9)]
