"""Topic words of a day (or week) against the archive's background.

A word is a topic when the day's substantive messages use it more than the archive's days do:
"支付" or "银行" come up every day in a payments group and say nothing about this one, "账务系统"
on the day of an accounting talk does. The background is a document frequency over the group's
archived days (`Background.of_days`): how many days used each word at all. Words found on more
than `COMMON_SHARE` of the days are never topics, whatever their count. Greetings, check-ins,
red packets and one-word remarks are left out before counting (bot/conversations.is_chatter),
and so are the names of the people who spoke or were @-ed, and any part of them.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.archive.model import Day, Message
from bot.conversations import QUOTE, bigrams, is_chatter
from bot.text import segmenter

COMMON_SHARE = 0.5  # a word on more than half of the archive's days is background, not a topic
COPY = 0.6  # a line this much contained in an earlier one is a copy of it
MIN_MESSAGES = 2  # a topic word comes up in at least this many messages
TOPICS = 8
MAX_CHARS = 4000  # what one chat message can hold on any platform; a longer paste is read that far
# Words of greetings and rituals that come inside longer lines ("祝大家新年快乐，万事如意").
RITUAL = frozenset("新年快乐 新年 快乐 元旦 元旦快乐 节日快乐 春节快乐 恭喜发财 万事如意 身体健康 心想事成 大吉大利 狗年 "
                   "早上好 晚安 签到 打卡 红包 微信红包 谢谢 感谢 欢迎 分享 大家 群主 老板".split())
NAME_SPLIT = re.compile(r"[-－—_~～|、,，\s]+")


@functools.lru_cache(maxsize=1 << 16)
def message_words(text: str) -> tuple[str, ...]:
    """The distinct content words of a message (jieba, stopwords and quotes of others dropped)."""
    words = segmenter().words(QUOTE.sub(" ", text[:MAX_CHARS]))
    return tuple(dict.fromkeys(w for w in words if _topical(w)))


def _topical(word: str) -> bool:
    """Not a number, not a scrap of Latin letters ("CF", "01"), not a single character."""
    if word.isascii():
        return word.isalpha() and len(word) >= 3 or any(c.isdigit() for c in word) and any(c.isalpha() for c in word)
    return len(word) > 1 and not word.isdigit() and word not in RITUAL


def substantive(messages: Iterable[Message]) -> list[Message]:
    """Lines that say something, each said once: chatter and copies of an earlier line left out
    (a sign-up chain repeats every name twenty times)."""
    kept, seen = [], []
    for m in messages:
        if is_chatter(m):
            continue
        words = bigrams(m.text)
        if words and any(len(words & earlier) >= COPY * len(words) for earlier in seen[-60:]):
            continue
        kept.append(m)
        seen.append(words)
    return kept


@dataclass
class Background:
    """How many of the archive's days used each word (document frequency over days)."""

    days: int = 0
    frequency: Counter = field(default_factory=Counter)

    @classmethod
    def of_days(cls, days: Iterable[Day]) -> Background:
        background = cls()
        for day in days:
            background.add(day)
        return background

    def add(self, day: Day) -> None:
        self.days += 1
        self.frequency.update({w for m in substantive(day.messages) for w in message_words(m.text)})

    def idf(self, word: str) -> float:
        """Smoothed inverse day frequency; with no background every word weighs the same."""
        return math.log((self.days + 1) / (self.frequency[word] + 1)) + 1.0

    def common(self, word: str) -> bool:
        return self.days >= 4 and self.frequency[word] > COMMON_SHARE * self.days


def names_in(messages: Iterable[Message]) -> set[str]:
    """Speakers and @-ed names, whole and by their first part ("陈一-某司-产品" is talked about as "陈一")."""
    names = set()
    for m in messages:
        for name in (m.speaker, *m.mentions):
            name = name.strip("? \u2005")
            names.add(name.lower())
            names.update(part.lower() for part in NAME_SPLIT.split(name) if part)
    return names


def weighted_words(messages: list[Message], background: Background) -> list[tuple[str, float]]:
    """(word, weight) by message count times the background's idf, best first."""
    counts = Counter(w for m in substantive(messages) for w in message_words(m.text))
    names = names_in(messages)
    scored = []
    for word, count in counts.items():
        if count < MIN_MESSAGES or background.common(word) or any(word.lower() in name for name in names):
            continue
        scored.append((word, count * background.idf(word)))
    scored.sort(key=lambda item: (-item[1], item[0]))
    return scored


def topic_words(messages: list[Message], background: Background, count: int = TOPICS) -> list[str]:
    """The day's (or week's) topic words, best first; words that contain a better one are left
    out ("账务系统" and "账务" are one topic)."""
    chosen: list[str] = []
    for word, _ in weighted_words(messages, background):
        key = word.lower()
        if any(key in c.lower() or c.lower() in key for c in chosen):
            continue
        chosen.append(word)
        if len(chosen) == count:
            break
    return chosen
