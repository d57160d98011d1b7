"""The daily digest as data, text and a chart: pure functions of a Day (plus optional extras).

The job (handlers/digest.py) and `archive-bot digest` both call `build_digest` then `render`;
they differ only in where the day comes from (live messages or an archived file) and in whether
the answer engine's suggestions for unanswered questions are available.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from bot.archive.model import Day, Message, MessageKind
from bot.chat import short_name
from bot.links import day_url
from bot.qa.mining import is_question, mine_day
from bot.text import segmenter, strip_noise

TOP_MEMBERS = 5
MAX_LISTED = 5  # answered and unanswered questions listed each
TOPICS = 8
QUOTE_CHARS = 60
REPLAY_LINES = 4
_NAME_SPLIT = re.compile(r"[-－—_~～|\s]+")
_MENTION_OR_URL = re.compile(r"@\S+|(?:https?://|www\.)\S+|\[[^\]]{1,8}\]")


@dataclass(frozen=True, slots=True)
class Suggestion:
    """The archive's best answer for an unanswered question (from the answer engine)."""

    text: str
    author: str
    date: str
    link: str | None = None


@dataclass(frozen=True, slots=True)
class Question:
    time: dt.datetime
    asker: str
    text: str
    answered_by: str | None = None  # first answer's author (someone other than the asker)
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
    questions: list[Question]
    topics: list[str]
    images: int
    hours: list[int]  # messages per hour, 0..23
    replay: Replay | None = None
    partial_until: dt.datetime | None = None  # "today so far": up to this time
    link: str | None = None

    @property
    def answered(self) -> list[Question]:
        return [q for q in self.questions if q.answered_by]

    @property
    def unanswered(self) -> list[Question]:
        return [q for q in self.questions if not q.answered_by]


def quote(text: str, limit: int = QUOTE_CHARS) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def day_questions(day: Day) -> list[tuple[int, Message, str | None]]:
    """(position, question, first answerer or None) for every question of the day, in order.

    Answered ones come from the miner's pairs (bot/qa/mining.py); the rest are question lines
    that no exchange took up, without the asker's own follow-up lines.
    """
    found: dict[int, tuple[Message, str | None]] = {}
    covered: set[int] = set()
    for pair in mine_day(day):
        first = next((a.speaker for a in pair.answers if a.speaker != pair.asker), None)
        found[pair.question_seqs[0]] = (pair.first, first)
        covered.update(pair.question_seqs)
        covered.update(pair.answer_seqs)
    last_asked: dict[str, dt.datetime] = {}
    for i, message in enumerate(day.messages):
        if i in covered or not is_question(message):
            continue
        previous = last_asked.get(message.speaker)
        last_asked[message.speaker] = message.time
        if previous is not None and message.time - previous <= dt.timedelta(minutes=3):
            continue  # the same person still asking the same thing
        found[i] = (message, None)
    return [(i, found[i][0], found[i][1]) for i in sorted(found)]


def hot_topics(day: Day, count: int = TOPICS) -> list[str]:
    """Keywords of the day's text by TF-IDF (jieba.analyse), names and links left out."""
    import jieba.analyse

    speakers = {m.speaker for m in day.messages}
    # "陈一-某司-产品-深圳" is talked about as "陈一": the name part of a nickname is not a topic.
    names = {name for m in day.messages for name in (m.speaker, *m.mentions)}
    speakers |= {_NAME_SPLIT.split(name.strip("? \u2005"), 1)[0] for name in names}
    text = "\n".join(_MENTION_OR_URL.sub(" ", m.text) for m in day.messages if m.kind is MessageKind.TEXT)
    if not text.strip():
        return []
    stopwords = segmenter().stopwords
    words = jieba.analyse.extract_tags(text, topK=count * 3)
    kept: dict[str, str] = {}
    for word in words:
        if word not in speakers and word.lower() not in stopwords and _topical(word):
            kept.setdefault(word.lower(), word)  # "p2p" and "P2P" are one topic
    return list(kept.values())[:count]


def _topical(word: str) -> bool:
    """Not a number, not a scrap of Latin letters ("CF", "01"), not a single character."""
    if word.isascii():
        return word.isalpha() and len(word) >= 3 or any(c.isdigit() for c in word) and any(c.isalpha() for c in word)
    return len(word) > 1


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
                 base_url: str = "", top: int = TOP_MEMBERS) -> Digest:
    """Everything the digest says about `day`; `suggestions` maps question positions to answers."""
    suggestions = suggestions or {}
    speakers = Counter(m.speaker for m in day.messages)
    hours = [0] * 24
    for m in day.messages:
        hours[m.time.hour] += 1
    questions = [Question(m.time, m.speaker, quote(strip_noise(m.text)), answerer, suggestions.get(i))
                 for i, m, answerer in day_questions(day)]
    return Digest(
        group=day.group, date=day.date, message_count=len(day.messages), participants=len(speakers),
        top_members=speakers.most_common(top), questions=questions,
        topics=hot_topics(day), images=sum(m.kind is MessageKind.IMAGE for m in day.messages),
        hours=hours, replay=replay, partial_until=partial_until, link=day_url(base_url, day.group, day.date))


def _md(text: str, markdown: bool) -> str:
    """Escape the Markdown subset's special characters in user text."""
    return re.sub(r"([*_`\[\]])", r"\\\1", text) if markdown else text


def render(digest: Digest, markdown: bool = False) -> str:
    """The digest as one message (the adapter splits it at the platform's limit)."""
    def bold(text: str) -> str:
        return f"*{text}*" if markdown else text

    def link(label: str, url: str | None) -> str:
        if not url:
            return label
        return f"[{label}]({url})" if markdown else f"{label}: {url}"

    e = lambda text: _md(text, markdown)  # noqa: E731
    n = lambda name: _md(short_name(name), markdown)  # noqa: E731 - a name of any length stays short
    when = digest.date.isoformat()
    if digest.partial_until is not None:
        when += f"（截至 {digest.partial_until:%H:%M}）"
    out = [bold(f"📋 {e(digest.group)} 群日报 {when}")]
    if digest.message_count == 0:
        out.append("今天群里没有消息。")
    else:
        out.append(f"消息 {digest.message_count} 条，{digest.participants} 人发言，图片 {digest.images} 张。")
        top = "、".join(f"{n(name)}（{count}）" for name, count in digest.top_members)
        out.append(f"最活跃：{top}")
    if digest.topics:
        out.append(f"热门话题：{e(' / '.join(digest.topics))}")
    if digest.questions:
        answered, unanswered = digest.answered, digest.unanswered
        out.append("")
        out.append(bold(f"❓ 提问 {len(digest.questions)} 个，已回答 {len(answered)} 个"))
        for q in answered[:MAX_LISTED]:
            out.append(f"✅ {q.time:%H:%M} {n(q.asker)}：{e(q.text)} —— {n(q.answered_by or '')} 回答")
        for q in unanswered[:MAX_LISTED]:
            out.append(f"⏳ {q.time:%H:%M} {n(q.asker)}：{e(q.text)}（暂无回答）")
            if q.suggestion is not None:
                s = q.suggestion
                out.append(f"   💡 群档案里的参考（{n(s.author)}，{s.date}）：{link(e(quote(s.text, 80)), s.link)}")
        hidden = max(0, len(answered) - MAX_LISTED) + max(0, len(unanswered) - MAX_LISTED)
        if hidden:
            out.append(f"……另有 {hidden} 个提问未列出")
    if digest.replay is not None:
        r = digest.replay
        out.append("")
        out.append(bold(f"📜 往年今日 {r.date.isoformat()}"))
        out.extend(f"{time} {n(speaker)}：{e(text)}" for time, speaker, text in r.lines)
        if r.link:
            out.append(link("查看当天记录", r.link))
    if digest.link:
        out.append(link("今日完整记录", digest.link))
    return "\n".join(out)


def hour_chart_png(digest: Digest) -> bytes:
    """Messages per hour as a small bar chart (matplotlib's Agg backend, no display needed)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6, 2.4), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.bar(range(24), digest.hours, color="#3a7bd5")
    axes.set_xticks(range(0, 24, 3))
    axes.set_xlim(-0.6, 23.6)
    axes.set_xlabel("hour")
    axes.set_ylabel("messages")
    axes.set_title(f"{digest.date.isoformat()}: {digest.message_count} messages", fontsize=10)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()

