"""The weekly digest: seven days read the way the daily digest reads one, plus the same week in
the archive of an earlier year.

Each day is split and ranked on its own (bot/discussions.py, bot/open_questions.py): a talk
does not run across midnight often enough to be worth a cross-day split, and a day's ranking is
what its digest showed. The week keeps the most substantial discussions and open questions of
its days, its topics are counted over all seven days against the archive's background, and
"this week in the archive" is the best discussion of the same seven calendar days in the most
recent earlier year that has them. `render_week` writes the same sections as the daily
`render`, so every platform gets the same text, split at its limit between sections.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from bot.archive.model import Day, MessageKind
from bot.digest import (MAX_QUESTIONS, TOP_MEMBERS, Question, Suggestion, _Writer, bar_chart_png, quote,
                        render_discussions, render_questions, short_name)
from bot.discussions import Discussion, discussions
from bot.links import day_url
from bot.open_questions import OpenQuestion, open_questions
from bot.text import strip_noise
from bot.topics import TOPICS, Background, topic_words

WEEK = 7
MAX_DISCUSSIONS = 5
ARCHIVE_DISCUSSIONS = 2


@dataclass
class WeeklyDigest:
    group: str
    start: dt.date
    end: dt.date  # inclusive
    message_count: int
    participants: int
    top_members: list[tuple[str, int]]
    per_day: list[tuple[dt.date, int]]  # messages per day, all seven
    discussions: list[Discussion]
    questions: list[Question]
    topics: list[str]
    archive: list[Discussion] = field(default_factory=list)  # the same week of an earlier year
    archive_year: int | None = None
    partial_until: dt.datetime | None = None
    link: str | None = None  # the week's first day in the web archive

    @property
    def busiest(self) -> tuple[dt.date, int] | None:
        return max(self.per_day, key=lambda item: (item[1], item[0])) if self.message_count else None


def week_dates(end: dt.date) -> list[dt.date]:
    """The seven dates ending on `end`."""
    return [end - dt.timedelta(days=WEEK - 1 - n) for n in range(WEEK)]


def open_questions_of(days: Sequence[Day], background: Background) -> list[tuple[Day, OpenQuestion]]:
    found = [(day, q) for day in days for q in open_questions(day, background)]
    found.sort(key=lambda item: (-item[1].substance, item[0].date, item[1].position))
    return found


def build_week(days: Sequence[Day], end: dt.date, *, background: Background | None = None,
               earlier: Sequence[Day] = (), suggestions: Mapping[tuple[dt.date, int], Suggestion] | None = None,
               partial_until: dt.datetime | None = None, base_url: str = "") -> WeeklyDigest:
    """The digest of the seven days ending on `end`; `days` are those of them that have messages,
    `earlier` the same dates of an earlier year, `suggestions` keyed by (date, question position)."""
    background = background or Background()
    suggestions = suggestions or {}
    dates = week_dates(end)
    days = [d for d in days if d.date in dates]
    messages = [m for d in days for m in d.messages]
    speakers = Counter(m.speaker for m in messages)
    counts = Counter({d.date: len(d.messages) for d in days})
    talks = sorted((t for d in days for t in discussions(d, background, base_url)), key=lambda t: -t.score)
    asked = open_questions_of(days, background)[:MAX_QUESTIONS]
    questions = [Question(q.message.time, q.message.speaker, quote(strip_noise(q.message.text)), q.position,
                          suggestions.get((day.date, q.position))) for day, q in asked]
    past = sorted((t for d in earlier for t in discussions(d, background, base_url)), key=lambda t: -t.score)
    return WeeklyDigest(
        group=days[0].group if days else "", start=dates[0], end=dates[-1], message_count=len(messages),
        participants=len(speakers), top_members=speakers.most_common(TOP_MEMBERS),
        per_day=[(date, counts[date]) for date in dates], discussions=talks[:MAX_DISCUSSIONS], questions=questions,
        topics=topic_words(messages, background, TOPICS), archive=past[:ARCHIVE_DISCUSSIONS],
        archive_year=earlier[0].date.year if earlier else None, partial_until=partial_until,
        link=day_url(base_url, days[0].group, dates[0]) if days else None)


def render_week(week: WeeklyDigest, markdown: bool = False, group: str = "") -> str:
    """The weekly digest as one message (the adapter splits it at the platform's limit)."""
    w = _Writer(markdown)
    span = f"{week.start.isoformat()} – {week.end.isoformat()}"
    if week.partial_until is not None:
        span += f"（截至 {week.partial_until:%m-%d %H:%M}）"
    out = [w.bold(f"📅 {w.e(week.group or group)} 群周报 {span}")]
    if not week.message_count:
        out.append("这一周群里没有消息。")
    else:
        day, count = week.busiest
        out.append(f"消息 {week.message_count} 条，{week.participants} 人发言；最热闹的一天 {day:%m-%d}（{count} 条）。")
        out.append("最活跃：" + "、".join(f"{w.e(short_name(name))}（{n}）" for name, n in week.top_members))
    if week.topics:
        out.append(f"本周话题：{w.e(' / '.join(week.topics))}")
    if week.discussions:
        out += ["", w.bold("💬 本周讨论")]
        render_discussions(out, week.discussions, w, with_date=True)
    if week.questions:
        out += ["", w.bold("❓ 本周值得回答的问题")]
        render_questions(out, week.questions, w, with_date=True)
    if week.archive:
        out += ["", w.bold(f"📜 往年本周（{week.archive_year} 年同一周）")]
        render_discussions(out, week.archive, w, with_date=True)
    return "\n".join(out)


def week_chart_png(week: WeeklyDigest) -> bytes:
    """Messages per day of the week."""
    return bar_chart_png([n for _, n in week.per_day],
                         f"{week.start.isoformat()} – {week.end.isoformat()}: {week.message_count} messages",
                         list(range(len(week.per_day))), [f"{d:%m-%d}" for d, _ in week.per_day])


def images_of(days: Sequence[Day]) -> int:
    return sum(m.kind is MessageKind.IMAGE for d in days for m in d.messages)
