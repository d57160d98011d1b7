"""Splitting at platform limits, command recognition and the Markdown subset converter."""

from __future__ import annotations

import re

import pytest

from bot.platforms.text import chars, convert_markdown, parse_command, split_text, utf8_bytes, utf16_units


@pytest.mark.parametrize("measure,limit", [(chars, 100), (utf16_units, 100), (utf8_bytes, 64)])
def test_every_part_fits_and_nothing_but_separators_is_lost(measure, limit):
    text = "\n".join(f"第{n}行 🧧👍🏽 payments 清算。" * (n % 4 + 1) for n in range(60))
    parts = split_text(text, limit, measure)
    assert all(0 < measure(p) <= limit for p in parts)
    assert re.sub(r"\s", "", "".join(parts)) == re.sub(r"\s", "", text)


def test_prefers_paragraphs_then_lines_then_sentences():
    para = "甲" * 30 + "\n\n" + "乙" * 30
    assert split_text(para, 40) == ["甲" * 30, "乙" * 30]
    lines = "甲" * 30 + "\n" + "乙" * 30
    assert split_text(lines, 40) == ["甲" * 30, "乙" * 30]
    sentences = "甲" * 30 + "。" + "乙" * 30
    assert split_text(sentences, 40) == ["甲" * 30 + "。", "乙" * 30]


def test_hard_cut_never_splits_a_surrogate_pair_or_detaches_a_modifier():
    text = "👍🏽" * 50  # each: 2 code points, 4 UTF-16 units
    parts = split_text(text, 10, utf16_units)
    assert all(utf16_units(p) <= 10 for p in parts)
    assert "".join(parts) == text
    assert all(not p.startswith("\U0001F3FD") for p in parts)
    assert split_text("中" * 10, 7, utf8_bytes) == ["中" * 2] * 5


def test_short_and_empty_text():
    assert split_text("短", 10) == ["短"]
    assert split_text("", 10) == []


@pytest.mark.parametrize("text,expected", [
    ("/search 备付金", ("search", "备付金", False)),
    ("  /Search@OurBot  备付金 ", ("search", "备付金", True)),
    ("/search@OtherBot 备付金", (None, "", False)),
    ("/search", ("search", "", False)),
    ("/搜索 x", (None, "", False)),
    ("看 /search", (None, "", False)),
    ("/search备付金", (None, "", False)),
    ("https://x/y", (None, "", False)),
])
def test_parse_command(text, expected):
    assert parse_command(text, "ourbot") == expected


def test_markdown_conversion_escapes_outside_markup():
    def escape(text: str) -> str:
        return text.replace("&", "&amp;").replace("<", "&lt;")

    out = convert_markdown("a<b *粗* `c<d` [l](https://e.org/?x=1&y=2)", bold="<b>{0}</b>",
                           code="<code>{0}</code>", link='<a href="{url}">{label}</a>', escape=escape)
    assert out == 'a&lt;b <b>粗</b> <code>c&lt;d</code> <a href="https://e.org/?x=1&amp;y=2">l</a>'


def test_escaped_characters_stay_literal_in_every_dialect():
    from bot.platforms.text import escape_markdown

    typed = "a*b*c _x_ `rm` [doc](https://evil.example/) back\\slash"
    text = f"*{escape_markdown('小*星')}*：{escape_markdown(typed)} [链接](https://bot.example.org/a?b=1&c=2)"
    telegram = convert_markdown(text, bold="<b>{0}</b>", code="<code>{0}</code>", link='<a href="{url}">{label}</a>',
                                escape=lambda s: s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))
    assert telegram == ('<b>小*星</b>：a*b*c _x_ `rm` [doc](https://evil.example/) back\\slash '
                        '<a href="https://bot.example.org/a?b=1&amp;c=2">链接</a>')
    slack = convert_markdown(text, bold="*{0}*", code="`{0}`", link="<{url}|{label}>")
    assert "：a*b*c _x_ `rm` [doc](https://evil.example/)" in slack and slack.count("<https://") == 1  # ours only
    assert convert_markdown(r"a \*b\* c", bold="<b>{0}</b>", code="{0}", link="{label}") == "a *b* c"
