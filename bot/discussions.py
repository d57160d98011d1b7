"""The day's discussions: conversations ranked by substance, each with a title and key lines.

A conversation (bot/conversations.py) is worth a reader's time for what was said in it, not for
how many lines it had: its substance counts the characters of real content (greetings, check-ins,
applause and emoji count nothing; a sign-up chain pasted twenty times counts once; one line counts
at most `MAX_LINE_CHARS`), the people who said something, and the answers given to its questions
(the Q&A miner's pairs). Conversations below `MIN_CONTENT` or with a single speaker are not
discussions.

The key lines are extractive: every substantive line becomes a TF-IDF vector over its words
(the idf from the archive's background, bot/topics.py), lines are ranked by LexRank centrality
(PageRank over their cosine similarities), and the most central ones that do not repeat each other
are shown, each cut to its most central sentence. No language model is involved.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from bot.archive.model import Day, Message
from bot.conversations import Conversation, bigrams, content, is_chatter, split_day
from bot.links import day_url
from bot.qa.mining import FINAL_PARTICLE, QUESTION_MARK, asks, mine_day
from bot.text import strip_noise
from bot.topics import Background, message_words, topic_words

MAX_LINE_CHARS = 200  # one pasted article does not make a discussion on its own
MIN_OWN_CHARS = 6  # a participant said at least this much of their own in one line (not a +1 to a chain)
MIN_CONTENT = 60  # characters of real content a discussion needs
PARTICIPANT_WEIGHT = 50  # substance of one more person who said something
ANSWER_WEIGHT = 30  # substance of one answer given to a question
REPEAT = 0.6  # a line this much contained in an earlier one is a copy (接龙, quotes)
SIMILAR = 0.5  # key lines more similar than this repeat each other
TITLE_CHARS = 40
MIN_TITLE_CHARS = 10  # a question cut at its first "？" keeps at least this much
LINE_CHARS = 60
HEADING_CHARS = 16  # an opening sentence this short is a heading
DAMPING = 0.85
SUBJECT = re.compile(r"(?:主题|话题|题目|分享|讲讲|聊聊|关于)[^“\"《<「]{0,12}[“\"《<「]([^”\"》>」]{2,30})[”\"》>」]")
QUESTION_FORM = re.compile(f"{QUESTION_MARK.pattern}|{FINAL_PARTICLE.pattern}")
ANNOUNCED = re.compile(r"(?:给大家|今天|今晚|来|我)(?:做个?)?分享(?:一下)?[：:]?\s*([^，。,！!？?\s“\"《<「]{4,24})")
POINTS_BACK = re.compile(r"你|您|刚才|刚刚|楼上|^.{0,6}(?:这|那)")
GENERIC = re.compile(r"^(?:一些|一下|一点|下|个|点|几点|这个|那个)")  # "我分享一些东西" names no subject
SENTENCE_END = re.compile(r"(?<=[。！？；!?;\n])|\s(?=[一二三四五六七八九十]+[、.．])|\s(?=\d+[、.．](?!\d))")


@dataclass(frozen=True, slots=True)
class KeyLine:
    time: dt.datetime
    speaker: str
    text: str


@dataclass(frozen=True, slots=True)
class Discussion:
    date: dt.date
    title: str
    start: dt.datetime
    end: dt.datetime
    participants: int  # people who said something of substance
    carriers: tuple[tuple[str, int], ...]  # (speaker, substantive lines), who carried it
    key_lines: tuple[KeyLine, ...]
    content_chars: int
    answers: int
    positions: tuple[int, ...]  # in day.messages
    link: str | None = None

    @property
    def score(self) -> float:
        return self.content_chars + PARTICIPANT_WEIGHT * (self.participants - 1) + ANSWER_WEIGHT * self.answers


def shorten(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def novel_chars(messages: list[Message]) -> list[int]:
    """Characters of new content per message: 0 for chatter, the new part of a copied line."""
    counts: list[int] = []
    recent: list[frozenset[str]] = []
    for m in messages:
        if is_chatter(m):
            counts.append(0)
            continue
        said, words = content(m.text), bigrams(m.text)
        copied = max((len(words & earlier) / len(words) for earlier in recent), default=0.0) if words else 0.0
        counts.append(min(MAX_LINE_CHARS, round(len(said) * (1 - copied if copied >= REPEAT else 1))))
        recent = (recent + [words])[-60:]
    return counts


def answer_positions(day: Day) -> set[int]:
    """Positions of the substantive answers others gave to the day's questions (the Q&A miner)."""
    return {j for pair in mine_day(day) for j, a in zip(pair.answer_seqs, pair.answers)
            if a.speaker != pair.asker and not is_chatter(a)}


def _vectors(lines: list[str], background: Background) -> np.ndarray:
    vocabulary: dict[str, int] = {}
    rows = []
    for text in lines:
        counts = Counter(message_words(text))
        rows.append(counts)
        for word in counts:
            vocabulary.setdefault(word, len(vocabulary))
    matrix = np.zeros((len(lines), max(1, len(vocabulary))))
    for i, counts in enumerate(rows):
        for word, n in counts.items():
            matrix[i, vocabulary[word]] = (1 + math.log(n)) * background.idf(word)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1, norms)


def lexrank(similarity: np.ndarray) -> np.ndarray:
    """Stationary scores of a random walk over the similarity graph (LexRank, continuous)."""
    n = len(similarity)
    weights = similarity.copy()
    np.fill_diagonal(weights, 0.0)
    sums = weights.sum(axis=1, keepdims=True)
    transition = np.where(sums > 0, weights / np.where(sums == 0, 1, sums), 1.0 / n)
    scores = np.full(n, 1.0 / n)
    for _ in range(50):
        updated = (1 - DAMPING) / n + DAMPING * transition.T @ scores
        if np.abs(updated - scores).sum() < 1e-9:
            return updated
        scores = updated
    return scores


def without_address(text: str, names: Iterable[str] = ()) -> str:
    """The line without a leading "@name": the export cannot say where a name with spaces ends
    ("@Jin He 某某|某司 银联接入…"), so a known speaker's name and the rest of that word go."""
    if not text.startswith("@"):
        return text
    for name in sorted(names, key=len, reverse=True):
        if name and text[1:].startswith(name):
            rest = text[1 + len(name):]
            return re.sub(r"^[^\s?\u2005]*[\s?\u2005]*", "", rest)
    return text


def central_sentence(text: str, background: Background, limit: int = LINE_CHARS) -> str:
    """A long line cut to its most central sentence (or its start when it has none); a short
    heading that opens the line ("四.账务系统设计原理") stays in front of it."""
    flat = " ".join(strip_noise(text).split())
    if len(flat) <= limit:
        return flat
    sentences = [s.strip() for s in SENTENCE_END.split(flat) if len(s.strip()) >= 6]
    if len(sentences) > 1:
        vectors = _vectors(sentences, background)
        centre = vectors.sum(axis=0)
        best = int(np.argmax(vectors @ centre))
        heading = sentences[0] if best > 0 and len(sentences[0]) <= HEADING_CHARS and flat.startswith(sentences[0]) else ""
        flat = f"{heading.rstrip('：:')}：{sentences[best]}" if heading else sentences[best]
    return shorten(flat, limit)


def question_title(text: str) -> str:
    """A question as a title: up to its first question mark once that says enough, shortened."""
    flat = " ".join(strip_noise(text).split())
    for mark in re.finditer(r"[?？]", flat):
        if mark.end() >= MIN_TITLE_CHARS and stands_alone(flat[:mark.end()]):
            return shorten(flat[:mark.end()], TITLE_CHARS)
    return shorten(flat, TITLE_CHARS)


def stands_alone(text: str) -> bool:
    """A line that makes sense as a title: not a reply to someone, not leaning on what was said."""
    return not (text.lstrip().startswith(("@", "「")) or POINTS_BACK.search(content(text)))


@dataclass(frozen=True, slots=True)
class Ranked:
    """A conversation's substantive lines by centrality (best first) and their similarities."""

    lines: list[Message]
    order: list[int]
    similarity: np.ndarray


def rank_lines(messages: list[Message], background: Background) -> Ranked:
    lines = [m for m in messages if not is_chatter(m) and len(content(m.text)) >= 8]
    if not lines:
        return Ranked([], [], np.zeros((0, 0)))
    vectors = _vectors([m.text for m in lines], background)
    similarity = vectors @ vectors.T
    # Centrality favours short lines of common words; a key line should also say something.
    scores = lexrank(similarity) * np.sqrt([min(len(content(m.text)), MAX_LINE_CHARS) / 20 for m in lines])
    return Ranked(lines, [int(i) for i in np.argsort(-scores, kind="stable")], similarity)


def key_lines(ranked: Ranked, background: Background, count: int, skip: str = "") -> list[KeyLine]:
    """The `count` most central lines that do not repeat each other (nor the title), in time order."""
    chosen: list[int] = []
    for i in ranked.order:
        if len(chosen) == count:
            break
        if ranked.lines[i].text != skip and all(ranked.similarity[i, j] < SIMILAR for j in chosen):
            chosen.append(i)
    names = {m.speaker for m in ranked.lines}
    return [KeyLine(ranked.lines[i].time, ranked.lines[i].speaker,
                    central_sentence(without_address(ranked.lines[i].text, names), background)) for i in sorted(chosen)]


def title_of(messages: list[Message], ranked: Ranked, background: Background) -> tuple[str, str]:
    """(title, the line it came from): a named subject ("主题是“…”"), the opening question when
    the talk is about it, the most central question, or the talk's topic words."""
    said = [m for m in messages if not is_chatter(m)]
    for m in said[:6]:
        subject = SUBJECT.search(m.text) or ANNOUNCED.search(m.text)
        if subject and not GENERIC.match(subject.group(1)):
            return subject.group(1).strip(), ""
    used = Counter(w for m in said for w in message_words(m.text))
    # The opening question names the talk when the others took up its words.
    opening = [m for m in said[:3] if asks(m.text) and QUESTION_FORM.search(strip_noise(m.text))
               and (len(said) < 8 or any(used[w] > 1 for w in message_words(m.text)))]
    top = ranked.order[:max(3, len(ranked.order) // 3)]
    central = [ranked.lines[i] for i in top if QUESTION_FORM.search(strip_noise(ranked.lines[i].text))
               and asks(ranked.lines[i].text) and stands_alone(ranked.lines[i].text)]
    for m in opening + central[:1]:
        return question_title(m.text), m.text
    words = topic_words(messages, background, 3)
    if words:
        return "、".join(words), ""
    return shorten(strip_noise(said[0].text), TITLE_CHARS), said[0].text


def discussion_of(day: Day, conversation: Conversation, novel: list[int], answers: set[int],
                  background: Background, base_url: str = "") -> Discussion:
    messages = conversation.messages(day)
    lines = Counter()
    chars = 0
    for i in conversation.positions:
        if novel[i] >= MIN_OWN_CHARS:
            lines[day.messages[i].speaker] += 1
        chars += novel[i]
    ranked = rank_lines(messages, background)
    title, title_line = title_of(messages, ranked, background)
    said = sum(1 for i in conversation.positions if novel[i])
    return Discussion(
        date=day.date, title=title, start=conversation.start, end=conversation.end, participants=len(lines),
        carriers=tuple(lines.most_common(2)),
        key_lines=tuple(key_lines(ranked, background, 3 if said >= 15 else 2, title_line)),
        content_chars=chars, answers=sum(1 for i in conversation.positions if i in answers),
        positions=tuple(conversation.positions),
        link=day_url(base_url, day.group, day.date, conversation.start.time()))


def discussions(day: Day, background: Background | None = None, base_url: str = "",
                conversations: list[Conversation] | None = None) -> list[Discussion]:
    """The day's discussions, most substantial first."""
    background = background or Background()
    conversations = split_day(day) if conversations is None else conversations
    novel = novel_chars(day.messages)
    answers = answer_positions(day)
    found = []
    for conversation in conversations:
        chars = sum(novel[i] for i in conversation.positions)
        speakers = {day.messages[i].speaker for i in conversation.positions if novel[i] >= MIN_OWN_CHARS}
        if chars >= MIN_CONTENT and len(speakers) >= 2:
            found.append(discussion_of(day, conversation, novel, answers, background, base_url))
    found.sort(key=lambda d: -d.score)
    return found
