"""The real archive beside the checkout: every file parses, nothing is lost, round trips are exact."""

from __future__ import annotations

import re

from bot.archive.reader import find_day_files, parse_day, read_day
from bot.archive.writer import render_day

HEADER_LINE = re.compile(r"^> \d\d:\d\d:\d\d  ", re.M)


def test_every_file_parses_with_one_message_per_header(shared_archive):
    files = find_day_files([shared_archive])
    assert len(files) >= 154
    total = 0
    for group, path in files:
        day = read_day(path, group)
        headers = len(HEADER_LINE.findall(path.read_text(encoding="utf-8")))
        assert len(day.messages) == headers, path
        assert day.group == path.parent.name
        assert [m.line for m in day.messages] == sorted(m.line for m in day.messages)
        assert all(m.time.date() == day.date and m.time.tzinfo is not None for m in day.messages)
        total += headers
    assert total >= 24_000


def test_round_trip_is_exact(shared_archive):
    for group, path in find_day_files([shared_archive]):
        day = read_day(path, group)
        again = parse_day(path, render_day(day), group)
        assert (again.date, again.title, again.author, again.declared_lines) == (
            day.date, day.title, day.author, day.declared_lines), path
        assert len(again.messages) == len(day.messages), path
        for before, after in zip(day.messages, again.messages):
            assert before.same_content(after), f"{path}:{before.line}"


def test_every_kind_and_quirk_occurs(shared_archive):
    """Guards the quirk tests' premise: the real data has these shapes."""
    messages = [m for group, path in find_day_files([shared_archive]) for m in read_day(path, group).messages]
    kinds = {m.kind.value for m in messages}
    assert kinds == {"text", "image", "emoji"}
    assert any(m.mentions for m in messages)
    assert any(m.text == "" for m in messages)
    assert all(m.speaker != "我" for m in messages)
