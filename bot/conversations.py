"""Splitting a day's chat into conversations.

A group chat is one stream in which several talks interleave and pause. Each message joins the
conversation it belongs to, decided in this order:

1. an explicit link: a platform's reply link (`Message.reply_to`, bot/archive/links.py), a quoted
   reply (`「 name: text 」`, the WeChat export's way of replying), or an @ of
   someone who spoke within `LINK_SPAN`; the message joins the conversation of the message it
   quotes or of the mentioned member's latest line; a line opening with "按你这样说", "你这个",
   "楼上" joins the conversation of the latest line by someone else;
2. shared vocabulary with a conversation still open (last line less than `GAP` ago): character
   bigrams of the content, weighted by how rare they are in the day, so "支付" links nothing and
   "热点账户" links a lot; the best open conversation above `MIN_SHARED` wins;
3. the flow: the speaker's own line of a moment ago; an answer the Q&A miner (bot/qa/mining.py)
   found for a question; for a light remark (emoji, image, "哈哈", "+1") or a line that is not a
   question, the conversation of the line right before when it came within `FLOW_GAP`;
4. otherwise the message opens a new conversation (a question nobody linked to, after a pause).

Afterwards a conversation that started while an earlier one was still going and shares most of
its vocabulary (`MERGE_SHARED`) is merged into it.

`split_day(day)` returns the conversations in order of their first message; each holds the
positions of its messages in `day.messages`, so callers (the digest, the answer engine's
conversation windows) can read texts, speakers and times from the day itself. `content(text)` and
`is_chatter(message)` are the shared notions of "what a line says" and "a line that says nothing".
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.archive.model import Day, Message, MessageKind
from bot.qa.mining import asks, mine_day
from bot.text import compact

GAP = dt.timedelta(minutes=30)  # an idle conversation is closed to vocabulary and flow
LINK_SPAN = dt.timedelta(hours=3)  # how far back a quote or an @ still finds its line
FLOW_GAP = dt.timedelta(minutes=3)  # a non-question right after a line continues its talk
SELF_GAP = dt.timedelta(minutes=5)  # a speaker's next line within this continues their talk
CHATTER_GAP = dt.timedelta(minutes=10)  # applause and emoji join what came this shortly before
ANSWER_SPAN = dt.timedelta(minutes=15)  # the Q&A miner's answers count as replies this soon
MIN_SHARED = 0.25  # rarity-weighted share of a line's bigrams found in an open conversation
MERGE_SHARED = 0.5  # share of a conversation's vocabulary that makes it part of one running beside it
VOCABULARY_LINES = 40  # an open conversation's vocabulary: its latest substantive lines

QUOTE = re.compile(r"「\s*([^「」:：]{1,60}?)\s*[:：]\s*(.*?)\s*」", re.S)
QUOTE_TAIL = re.compile(r"^[\s\-－—]*")  # the export's "- - - -" between a quote and the reply
# Lines that carry no content of their own: greetings, thanks, agreement, check-ins, red packets,
# applause, laughter, "+1" and sign-up counts.
CHATTER = re.compile(
    r"^(?:大家|各位|群主|老师|老大|兄弟们?|亲们?)*(?:早|早上好|早安|上午好|中午好|下午好|晚上好|晚安|午安|好|你好|您好|hi|hello|"
    r"新年好|新年快乐|新年快樂|元旦快乐|元旦快樂|春节快乐|节日快乐|happynewyear|周末愉快|过年好|恭喜发财|大吉大利|"
    r"谢谢|多谢|感谢|谢了|谢谢分享|感谢分享|辛苦了?|哈+|呵+|嘿+|嗯+|哦+|噢+|啊+|好的|收到|ok|okay|thx|thanks|"
    r"是的|对|对的|没错|同意|有道理|赞|点赞|厉害|牛|牛逼|威武|学习了?|受教了?|期待|欢迎|欢迎欢迎|\+\d+|\d+|"
    r"打卡|签到|已签到|路过|围观|冒泡|已关注|微信红包|红包|抢到了|谢谢老板|老板大气|手慢了|没抢到)+"
    r"(?:大家|各位|啊|呀|哈|了|啦|哦|哟|呢|的|[!！~～。.]+)*$")
RED_PACKET = re.compile(r"红包")
# A line that answers the one before it without naming anyone: "按你这样说", "你这个…", "楼上说的".
ADDRESSES_PREVIOUS = re.compile(r"^(?:按你|照你|按您|照您|你说|您说|你这|您这|你刚|您刚|那你|那您|楼上|同意楼上)")


@functools.lru_cache(maxsize=1 << 16)
def content(text: str) -> str:
    """What a line says in its own words: quotes of other lines, @s, emoji, links and
    punctuation removed, compacted (bot.text.compact)."""
    return compact(QUOTE.sub(" ", text))


def quoted(text: str) -> tuple[str, str] | None:
    """(name, quoted text) of a quoted reply `「 name: text 」`, or None."""
    match = QUOTE.search(text)
    return (match.group(1).strip(), match.group(2)) if match else None


@functools.lru_cache(maxsize=1 << 16)
def _chatter_text(text: str) -> bool:
    said = content(text)
    return len(said) < 2 or bool(CHATTER.match(said)) or bool(RED_PACKET.search(said)) and len(said) <= 6


def is_chatter(message: Message) -> bool:
    """A line that says nothing a reader of the digest needs: not text, or a greeting, thanks,
    applause, check-in (签到), red packet, sign-up count or a single word."""
    return message.kind is not MessageKind.TEXT or _chatter_text(message.text)


@functools.lru_cache(maxsize=1 << 16)
def bigrams(text: str) -> frozenset[str]:
    said = content(text)
    return frozenset(said[i:i + 2] for i in range(len(said) - 1))


@dataclass
class Conversation:
    """Positions (in `day.messages`) of one conversation's messages, in order."""

    positions: list[int] = field(default_factory=list)
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    vocabulary: Counter = field(default_factory=Counter)  # bigram -> lines of the recent window
    _window: list[frozenset[str]] = field(default_factory=list, repr=False)
    all_words: set[str] = field(default_factory=set, repr=False)

    def add(self, position: int, message: Message, words: frozenset[str]) -> None:
        self.positions.append(position)
        self.start = self.start or message.time
        self.end = message.time
        if words:
            self.all_words |= words
            self._window.append(words)
            self.vocabulary.update(words)
            if len(self._window) > VOCABULARY_LINES:
                self.vocabulary.subtract(self._window.pop(0))

    def messages(self, day: Day) -> list[Message]:
        return [day.messages[i] for i in self.positions]


def _same_person(name: str, speaker: str) -> bool:
    """A quoted or @-ed name against a speaker's display name (the export cuts names at spaces)."""
    name, speaker = name.strip("?\u2005 "), speaker.strip("?\u2005 ")
    return bool(name) and (name == speaker or speaker.startswith(name) or name.startswith(speaker))


class _Splitter:
    def __init__(self, messages: Sequence[Message]):
        self.messages = messages
        self.owner: list[int] = []  # conversation index of each message so far
        self.conversations: list[Conversation] = []
        frequency = Counter(b for m in messages if m.kind is MessageKind.TEXT for b in bigrams(m.text))
        total = max(1, len(messages))
        self.rarity = {b: math.log(1 + total / n) for b, n in frequency.items()}
        self.position = {m.id: n for n, m in enumerate(messages) if m.id is not None}
        self.answers_to: dict[int, int] = {}  # answer position -> question position (bot.qa.mining)
        window = Day("", messages[0].time.date(), "", "", messages=list(messages)) if messages else None
        for pair in mine_day(window) if window else ():
            asked = messages[pair.question_seqs[-1]].time
            for j in pair.answer_seqs:
                if messages[j].time - asked <= ANSWER_SPAN and not is_chatter(messages[j]):
                    self.answers_to.setdefault(j, pair.question_seqs[0])

    def linked(self, i: int) -> int | None:
        """Conversation of the line that message i replies to (a platform reply link), quotes, or
        whose speaker it @s."""
        message = self.messages[i]
        parent = self.position.get(message.reply_to) if message.reply_to is not None else None
        if parent is not None and parent < i:
            return self.owner[parent]
        quote = quoted(message.text) if message.kind is MessageKind.TEXT else None
        names = [quote[0]] if quote else []
        names += list(message.mentions)
        quote_said = content(quote[1])[:12] if quote else ""
        for n, name in enumerate(names):
            fallback = None
            for j in range(i - 1, -1, -1):
                earlier = self.messages[j]
                if message.time - earlier.time > LINK_SPAN:
                    break
                if (earlier.speaker == message.speaker or is_chatter(earlier)
                        or not _same_person(name, earlier.speaker)):
                    continue
                if n == 0 and quote_said and quote_said not in content(earlier.text):
                    fallback = j if fallback is None else fallback
                    continue
                return self.owner[j]
            if fallback is not None:
                return self.owner[fallback]
        return None

    def by_vocabulary(self, message: Message, words: frozenset[str]) -> int | None:
        weight = math.fsum(self.rarity.get(b, 0.0) for b in words)
        if not weight:
            return None
        best, best_share = None, MIN_SHARED
        for index in range(len(self.conversations) - 1, -1, -1):
            conversation = self.conversations[index]
            if message.time - conversation.end > GAP:
                continue
            shared = math.fsum(self.rarity.get(b, 0.0) for b in words if conversation.vocabulary[b] > 0)
            if shared / weight > best_share:
                best, best_share = index, shared / weight
        return best

    def previous_speaker(self, i: int, message: Message) -> int | None:
        """Conversation of the latest substantive line by someone else ("按你这样说…" answers it)."""
        for j in range(i - 1, max(-1, i - 30), -1):
            earlier = self.messages[j]
            if message.time - earlier.time > GAP:
                break
            if earlier.speaker != message.speaker and not is_chatter(earlier):
                return self.owner[j]
        return None

    def by_speaker(self, i: int, message: Message) -> int | None:
        """The conversation of the speaker's own line of a moment ago."""
        for j in range(i - 1, max(-1, i - 30), -1):
            earlier = self.messages[j]
            if message.time - earlier.time > SELF_GAP:
                break
            if earlier.speaker == message.speaker and (earlier.kind is MessageKind.IMAGE or not is_chatter(earlier)):
                return self.owner[j]
        return None

    def by_flow(self, i: int, message: Message) -> int | None:
        """The conversation of the line right before, for a remark that is not a new question."""
        previous = i - 1
        if previous < 0 or message.time - self.messages[previous].time > FLOW_GAP:
            return None
        if is_chatter(message) or not asks(message.text):
            return self.owner[previous]
        return None

    def place(self, i: int) -> None:
        message = self.messages[i]
        words = bigrams(message.text) if message.kind is MessageKind.TEXT else frozenset()
        chosen = self.linked(i)
        if chosen is None and message.kind is MessageKind.TEXT and ADDRESSES_PREVIOUS.match(content(message.text)):
            chosen = self.previous_speaker(i, message)
        if chosen is None and not is_chatter(message):
            chosen = self.by_vocabulary(message, words)
        if chosen is None:
            chosen = self.by_speaker(i, message)
        if chosen is None and i in self.answers_to:
            chosen = self.owner[self.answers_to[i]]
        if chosen is None:
            chosen = self.by_flow(i, message)
        if chosen is None and is_chatter(message) and self.conversations and (
                message.time - self.messages[i - 1].time <= CHATTER_GAP):
            chosen = self.owner[-1]  # applause and emoji belong to what came just before
        if chosen is None:
            self.conversations.append(Conversation())
            chosen = len(self.conversations) - 1
        self.owner.append(chosen)
        self.conversations[chosen].add(i, message, words if not is_chatter(message) else frozenset())


    def merge_overlapping(self) -> list[Conversation]:
        """Two conversations running at the same time about the same thing are one: the line by
        line choice sometimes starts a second one when a question repeats the first one's words."""
        kept: list[Conversation] = []
        for conversation in self.conversations:
            words = set(conversation.all_words)
            weight = math.fsum(self.rarity.get(b, 0.0) for b in words)
            target = None
            for earlier in reversed(kept[-8:]):
                if weight and conversation.start <= earlier.end and math.fsum(
                        self.rarity.get(b, 0.0) for b in words & earlier.all_words) / weight >= MERGE_SHARED:
                    target = earlier
                    break
            if target is None:
                kept.append(conversation)
                continue
            target.positions = sorted(target.positions + conversation.positions)
            target.end = max(target.end, conversation.end)
            target.all_words |= conversation.all_words
        return kept


def split_messages(messages: Sequence[Message]) -> list[Conversation]:
    """The conversations of an ordered message list (a day, or a live window of one)."""
    splitter = _Splitter(messages)
    for i in range(len(messages)):
        splitter.place(i)
    return splitter.merge_overlapping()


def split_day(day: Day) -> list[Conversation]:
    """The day's conversations in order of their first message."""
    return split_messages(day.messages)
