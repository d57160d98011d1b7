"""The daily digest as data, text and a chart: pure functions of a Day (plus optional extras).

What a member wants from it: what was discussed (bot/discussions.py: conversations ranked by
substance, with who carried them and their key lines), what is still open (bot/open_questions.py:
questions worth answering, ranked by substance, with the archive's answer where the engine is
confident), and the day's topics against the archive's background (bot/topics.py). The job
(handlers/digest.py) and `archive-bot digest` both call `build_digest` then `render`; they differ
only in where the day comes from and in whether the engine's suggestions are available.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.archive.model import Day, MessageKind
from bot.chat import short_name as bounded_name
from bot.conversations import split_day
from bot.discussions import Discussion, discussions, shorten
from bot.links import day_url
from bot.markup import escape_markdown
from bot.open_questions import open_questions
from bot.qa.mining import mine_day
from bot.text import strip_noise
from bot.topics import Background, topic_words

TOP_MEMBERS = 5
MAX_DISCUSSIONS = 3
MAX_QUESTIONS = 5
TOPICS = 8
QUOTE_CHARS = 60
REPLAY_LINES = 4


@dataclass(frozen=True, slots=True)
class Suggestion:
    """The archive's best answer for an open question (from the answer engine)."""

    text: str
    author: str
    date: str
    link: str | None = None


@dataclass(frozen=True, slots=True)
class Question:
    time: dt.datetime
    asker: str
    text: str
    position: int = -1  # in day.messages
    suggestion: Suggestion | None = None


@dataclass(frozen=True, slots=True)
class Replay:
    """'This day in the archive': a short exchange from the same month-day of an earlier year."""

    date: dt.date
    lines: tuple[tuple[str, str, str], ...]  # (HH:MM, speaker, text)
    link: str | None = None


@dataclass
class Digest:
    group: str
    date: dt.date
    message_count: int
    participants: int
    top_members: list[tuple[str, int]]
    discussions: list[Discussion]
    questions: list[Question]  # open questions worth answering, most substantial first
    topics: list[str]
    images: int
    hours: list[int]  # messages per hour, 0..23
    replay: Replay | None = None
    partial_until: dt.datetime | None = None  # "today so far": up to this time
    link: str | None = None
    more_discussions: int = 0
    more_questions: int = 0
    extra: dict = field(default_factory=dict)


def quote(text: str, limit: int = QUOTE_CHARS) -> str:
    return shorten(text, limit)


def pick_replay(day: Day, base_url: str = "") -> Replay | None:
    """The best exchange of an earlier day: its liveliest Q&A pair, else its first few lines."""
    pairs = mine_day(day)
    if pairs:
        pair = max(pairs, key=lambda p: (len({a.speaker for a in p.answers}), len(p.answers)))
        chosen = [pair.first] + [a for a in pair.answers if a.speaker != pair.asker][: REPLAY_LINES - 1]
    else:
        chosen = [m for m in day.messages if m.kind is MessageKind.TEXT and len(m.text) > 8][:REPLAY_LINES]
    if not chosen:
        return None
    lines = tuple((f"{m.time:%H:%M}", m.speaker, quote(strip_noise(m.text))) for m in chosen)
    return Replay(day.date, lines, day_url(base_url, day.group, day.date, chosen[0].time.time()))


def build_digest(day: Day, *, suggestions: Mapping[int, Suggestion] | None = None,
                 replay: Replay | None = None, partial_until: dt.datetime | None = None,
                 base_url: str = "", background: Background | None = None, top: int = TOP_MEMBERS) -> Digest:
    """Everything the digest says about `day`; `suggestions` maps question positions to answers,
    `background` is the archive's word frequency by day (no background: every word weighs alike)."""
    suggestions = suggestions or {}
    background = background or Background()
    speakers = Counter(m.speaker for m in day.messages)
    hours = [0] * 24
    for m in day.messages:
        hours[m.time.hour] += 1
    conversations = split_day(day)
    talks = discussions(day, background, base_url, conversations)
    asked = open_questions(day, background, conversations)
    questions = [Question(q.message.time, q.message.speaker, quote(strip_noise(q.message.text)), q.position,
                          suggestions.get(q.position)) for q in asked[:MAX_QUESTIONS]]
    return Digest(
        group=day.group, date=day.date, message_count=len(day.messages), participants=len(speakers),
        top_members=speakers.most_common(top), discussions=talks[:MAX_DISCUSSIONS], questions=questions,
        topics=topic_words(day.messages, background, TOPICS),
        images=sum(m.kind is MessageKind.IMAGE for m in day.messages),
        hours=hours, replay=replay, partial_until=partial_until, link=day_url(base_url, day.group, day.date),
        more_discussions=max(0, len(talks) - MAX_DISCUSSIONS), more_questions=max(0, len(asked) - MAX_QUESTIONS))


def _md(text: str, markdown: bool) -> str:
    """User text made literal in the Markdown subset (bot/markup.py)."""
    return escape_markdown(text) if markdown else text


class _Writer:
    """Plain text or the adapters' Markdown subset (*bold*, [label](url)), user text escaped."""

    def __init__(self, markdown: bool):
        self.markdown = markdown

    def e(self, text: str) -> str:
        return _md(text, self.markdown)

    def bold(self, text: str) -> str:
        return f"*{text}*" if self.markdown else text

    def link(self, label: str, url: str | None) -> str:
        if not url:
            return label
        return f"[{label}]({url})" if self.markdown else f"{label}: {url}"


def short_name(name: str) -> str:
    """"梁八-远景支付-架构-北京" is called "梁八" in a line that names several people."""
    head = re.split(r"[-－—_~～|]+", name.strip("? \u2005"), maxsplit=1)[0].strip()
    return bounded_name(head if len(head) >= 2 else name.strip())  # a name of any length stays short


def render_discussions(out: list[str], talks: list[Discussion], w: _Writer, with_date: bool = False) -> None:
    for n, talk in enumerate(talks, 1):
        when = f"{talk.start:%H:%M}–{talk.end:%H:%M}"
        if with_date:
            when = f"{talk.date:%m-%d} {when}"
        carriers = "、".join(w.e(short_name(name)) for name, _ in talk.carriers)
        out.append(f"{n}. {w.bold(w.e(talk.title))}")
        out.append(f"   {when} · {talk.participants} 人参与 · {carriers} 主聊")
        out.extend(f"   · {w.e(short_name(k.speaker))}：{w.e(k.text)}" for k in talk.key_lines)
        if talk.link:
            out.append("   " + w.link("看原文", talk.link))


def render_questions(out: list[str], questions: list[Question], w: _Writer, with_date: bool = False) -> None:
    for q in questions:
        when = f"{q.time:%m-%d %H:%M}" if with_date else f"{q.time:%H:%M}"
        out.append(f"· {when} {w.e(short_name(q.asker))}：{w.e(q.text)}")
        if q.suggestion is not None:
            s = q.suggestion
            out.append(f"   💡 群档案里的参考（{w.e(short_name(s.author))}，{s.date}）：{w.link(w.e(quote(s.text, 80)), s.link)}")


def render(digest: Digest, markdown: bool = False) -> str:
    """The digest as one message (the adapter splits it at the platform's limit)."""
    w = _Writer(markdown)
    when = digest.date.isoformat()
    if digest.partial_until is not None:
        when += f"（截至 {digest.partial_until:%H:%M}）"
    out = [w.bold(f"📋 {w.e(digest.group)} 群日报 {when}")]
    if digest.message_count == 0:
        out.append("今天群里没有消息。")
    else:
        out.append(f"消息 {digest.message_count} 条，{digest.participants} 人发言，图片 {digest.images} 张。")
        top = "、".join(f"{w.e(short_name(name))}（{count}）" for name, count in digest.top_members)
        out.append(f"最活跃：{top}")
    if digest.topics:
        out.append(f"话题：{w.e(' / '.join(digest.topics))}")
    if digest.discussions:
        out += ["", w.bold("💬 今日讨论")]
        render_discussions(out, digest.discussions, w)
        if digest.more_discussions:
            out.append(f"……另有 {digest.more_discussions} 段讨论")
    if digest.questions:
        out += ["", w.bold("❓ 值得回答的问题")]
        render_questions(out, digest.questions, w)
        if digest.more_questions:
            out.append(f"……另有 {digest.more_questions} 个问题")
    if digest.replay is not None:
        r = digest.replay
        out += ["", w.bold(f"📜 往年今日 {r.date.isoformat()}")]
        out.extend(f"{time} {w.e(short_name(speaker))}：{w.e(text)}" for time, speaker, text in r.lines)
        if r.link:
            out.append(w.link("查看当天记录", r.link))
    if digest.link:
        out.append(w.link("今日完整记录", digest.link))
    return "\n".join(out)


def bar_chart_png(heights: list[int], title: str, ticks: list[int], labels: list[str] | None = None,
                  xlabel: str | None = None, fill_width: bool = False) -> bytes:
    """Message counts as a small PNG bar chart (matplotlib's Agg backend, no display needed)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6, 2.4), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.bar(range(len(heights)), heights, color="#3a7bd5")
    if labels is None:
        axes.set_xticks(ticks)
    else:
        axes.set_xticks(ticks, labels)
    if fill_width:  # every slot shown, even empty ones at either end
        axes.set_xlim(-0.6, len(heights) - 0.4)
    if xlabel:
        axes.set_xlabel(xlabel)
    axes.set_ylabel("messages")
    axes.set_title(title, fontsize=10)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def hour_chart_png(digest: Digest) -> bytes:
    """Messages per hour of the day."""
    return bar_chart_png(list(digest.hours), f"{digest.date.isoformat()}: {digest.message_count} messages",
                         list(range(0, 24, 3)), xlabel="hour", fill_width=True)

