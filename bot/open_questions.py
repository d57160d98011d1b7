"""Questions worth answering: the day's open questions, most substantial first.

An open question is one the Q&A miner found no answer to (bot/qa/mining.py). It is worth a
reader's answer when it says enough to be answered by someone who missed the chat: never a
greeting, check-in, red packet or one-word remark (bot/conversations.is_chatter), nor "有人在吗",
nor a rhetorical one ("不是…吗"), nor a question put to one member (an @) or leaning on what was just said ("那这个呢", "你说的…"),
which that member or the people in the talk answer. The rest are ranked by substance: how many
content words the question has and how specific they are in the archive (bot/topics.Background),
not by when it was asked.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass

from bot.archive.model import Day, Message, MessageKind
from bot.conversations import Conversation, content, is_chatter, split_day
from bot.qa.mining import FINAL_PARTICLE, QUESTION_MARK, is_question
from bot.text import strip_noise
from bot.topics import Background, message_words

PRESENCE = re.compile(r"有人在吗|有人吗|在吗|在不在|在线吗|有没有人")
# Phrases that point back into the conversation, and a leading 这/那 ("那这个怎么算？").
LEANS_ON_CONTEXT = re.compile(r"你说的|您说的|楼上|刚才|刚刚|是吧|对吧|同上|他说|她说|你的意思|你是说|什么意思|啥意思|没太?明白|没看懂|"
                              r"文中|文章里|上文|上图|图中|图里|这篇|链接里|"
                              r"^\s*(?:那|这|是)|^.{0,6}(?:这|那)")
WISHES = re.compile(r"快乐|快樂|happynewyear|新年好|恭喜发财|节日好")
RHETORICAL = re.compile(r"不是.{0,12}[吗么嘛]|难道|岂不|何必")
SECOND_PERSON = re.compile(r"你|您")
SHORT_ANSWERS = frozenset("是 是的 对 对的 不是 没有 有 有的 不对 会 不会 可以 不可以 不行 能 不能 要 不要 不用".split())
OPENER = re.compile(r"^(?:请问|请教|求助|求推荐|咨询|问一下|问下|有没有|有谁|谁|哪位|哪里|哪家|大家|各位|群里)")
QUESTION_FORM = re.compile(f"{QUESTION_MARK.pattern}|{FINAL_PARTICLE.pattern}")
MIN_WORDS = 3  # fewer content words are a remark, not a question someone can answer
MAX_WORDS = 15  # a long question counts no more than a precise one
REPLY_SPAN = dt.timedelta(hours=1)  # a reply in the question's conversation this soon takes it up
FOLLOW_UP = dt.timedelta(minutes=3)  # the asker's next question this soon is the same question


@dataclass(frozen=True, slots=True)
class OpenQuestion:
    position: int  # in day.messages
    message: Message
    substance: float


def worth_answering(message: Message) -> bool:
    """Could someone who missed the chat answer this question from its own words?"""
    if is_chatter(message):
        return False
    said = content(message.text)
    if PRESENCE.search(said) and len(said) < 16 or WISHES.search(said):
        return False
    if message.mentions and len(said) < 20 or SECOND_PERSON.search(said):
        return False  # put to one member
    if not (QUESTION_FORM.search(strip_noise(message.text)) or OPENER.match(said)):
        return False  # a statement with a question word in it
    if LEANS_ON_CONTEXT.search(said) or RHETORICAL.search(said):
        return False
    return len(message_words(message.text)) >= MIN_WORDS


def substance(message: Message, background: Background) -> float:
    """Specific content words (by the archive's idf) of the question."""
    words = message_words(message.text)[:MAX_WORDS]
    return round(sum(background.idf(w) for w in words), 3)


def _short_answer(message: Message) -> bool:
    """"是", "对", "没有": a one-word answer to a yes-or-no question."""
    return message.kind is MessageKind.TEXT and content(message.text) in SHORT_ANSWERS


def unanswered(day: Day, conversations: list[Conversation]) -> Iterator[tuple[int, Message]]:
    """(position, message) of questions nobody took up, the asker's repeats left out.

    A question was taken up when someone else said something of substance after it in its own
    conversation (bot/conversations.py) within `REPLY_SPAN`: a reply, or the talk it belongs to."""
    taken_up: set[int] = set()
    for conversation in conversations:
        positions = conversation.positions
        for n, i in enumerate(positions):
            asker, asked = day.messages[i].speaker, day.messages[i].time
            if any(day.messages[j].speaker != asker and (not is_chatter(day.messages[j]) or _short_answer(day.messages[j]))
                   and day.messages[j].time - asked <= REPLY_SPAN for j in positions[n + 1:n + 40]):
                taken_up.add(i)
    last_asked: dict[str, dt.datetime] = {}
    for i, message in enumerate(day.messages):
        if not is_question(message):
            continue
        previous = last_asked.get(message.speaker)
        last_asked[message.speaker] = message.time
        if i not in taken_up and (previous is None or message.time - previous > FOLLOW_UP):
            yield i, message


def open_questions(day: Day, background: Background | None = None,
                   conversations: list[Conversation] | None = None) -> list[OpenQuestion]:
    """The day's open questions worth answering, most substantial first (ties: earlier first)."""
    background = background or Background()
    conversations = split_day(day) if conversations is None else conversations
    found = [OpenQuestion(i, m, substance(m, background)) for i, m in unanswered(day, conversations)
             if worth_answering(m)]
    found.sort(key=lambda q: (-q.substance, q.position))
    return found
