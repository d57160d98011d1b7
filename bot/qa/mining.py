"""Mining question/answer pairs out of one day's chat.

A group chat has no threads, so they are reconstructed from habits the archive shows:
a question ends in ？/吗/呢 or opens with 请问/请教/哪位/有没有...; the asker often adds a line
or two right after ("哪位大神讲一下，"); others answer within minutes, sometimes with an @ of the
asker; the exchange is over when the talk pauses or someone opens an unrelated question.
Greetings, thanks, images and emoji-only lines are never questions, and neither are quote-replies
(`「 name: text 」 - - - reply`, reply chains in bot.qa.units) or long talks (passages there).
An answer already attached to an exchange does not open the next one; a message that answers a
parallel question asked in between is not attached; a question that leans on what came before
("那这个怎么算？") carries the lines before it as context.
Where the archive has reply links (Telegram replies, Slack threads), they decide the exchange
instead (bot/qa/reply_links.py).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass

from bot.archive.model import Day, Message, MessageKind
from bot.qa.reply_links import reply_threads
from bot.text import CJK, compact, strip_noise

MINER_VERSION = 3  # bump when the rules change: stored pairs of older versions are re-mined

CONTINUATION_GAP = dt.timedelta(minutes=3)  # asker's follow-up lines merged into the question
THREAD_GAP = dt.timedelta(minutes=20)  # silence that ends an exchange
THREAD_SPAN = dt.timedelta(minutes=60)  # answers without an @ must come this soon
MENTION_SPAN = dt.timedelta(hours=4)  # an @-reply to the asker counts this long after
MAX_ANSWERS = 12  # a long exchange keeps its first dozen answer lines: enough to quote, short enough to read
RIVAL_SPAN = dt.timedelta(minutes=5)  # an earlier question still waiting for its answers
MAX_SCAN = 250  # messages looked at after a question
MIN_LATIN_QUESTION_CHARS = 12  # without a Chinese character, shorter lines ("ok?", "why?") are chatter
MIN_ANSWER_CHARS = 2  # an answer line needs more than one character of content ("嗯" is not an answer)

QUESTION_MARK = re.compile(r"[?？]")
# Particles that end a question clause, before punctuation or the end.
FINAL_PARTICLE = re.compile(r"[吗呢么嘛][\s,，。.!！~～…]*(?:$|[,，。])")
ASKING = re.compile(
    r"请教|求教|请问|求助|求推荐|有没有|是不是|能不能|可不可以|怎么|咋|如何|为什么|为啥|哪位|哪个|哪些|"
    r"哪里|哪家|谁知道|谁有|能否|可否|是否|多少|什么|啥|咨询一下|问一下|问下")
# Question words inside statements: "没啥关系", "无论做什么", "多少可以分一点", "确认是否合法".
NOT_ASKING = re.compile(r"没啥|没什么|啥都|什么都|无论|不管|多少[可有会还能也]|(?:确认|判断|验证|检查|看|取决于|在于|主要是)[^，。,]{0,8}是否")
GREETING = re.compile(
    r"^(?:大家|各位|群主|老师)?(?:早|早上好|早安|上午好|中午好|下午好|晚上好|晚安|午安|好|新年好|新年快乐|节日快乐|周末愉快|"
    r"谢谢|多谢|感谢|谢了|辛苦了?|哈+|呵+|嘿+|嗯+|哦+|好的|收到|ok|okay|thx|thanks|是的|对|对的|"
    r"同意|有道理|赞|厉害|牛|\+1|1|欢迎|欢迎欢迎|打卡|签到|路过|围观)+(?:大家|各位|啊|呀|哈|了|啦)*$")
# Answers that only agree or thank: kept in an exchange, but alone they do not make a pair.
ACK = GREETING
MIN_QUESTION_CHARS = 5
TALK_CHARS = 150  # a message this long is a talk or an announcement, not a question
CONTEXT_SPAN = dt.timedelta(minutes=10)  # the lines a leaning question refers to
CONTEXT_LINES = 2
# `「 name: quoted text 」 - - - - reply`: WeChat's quote-reply as the export writes it.
QUOTE_REPLY = re.compile(r"^\s*「\s*([^:：」]{1,60}?)\s*[:：]\s*(.*?)\s*」[\s\-－—]*(.*)$", re.S)
# Phrases that point back into the conversation, and a leading 这/那 ("那这个怎么算？").
LEANS_ON_CONTEXT = re.compile(r"你说的|您说的|楼上|刚才|刚刚|是吧|对吧|同上|他说|她说|你的意思|你是说|^\s*(?:那|这)")
# In a question, a demonstrative anywhere points at what was said before it.
POINTS_BACK = re.compile(r"这样|那样|这种|那种|这个|那个|这些|那些")


def format_unit_id(kind: str, group: str, date: str, seq: int, piece: int = 0) -> str:
    """`kind:group:date:line[:piece]`: how units (and single archived messages, kind "msg") are named
    wherever they are stored (bot.qa.units.parse_unit_id takes it apart)."""
    return f"{kind}:{group}:{date}:{seq}:{piece}" if piece else f"{kind}:{group}:{date}:{seq}"


@dataclass(frozen=True, slots=True)
class QAPair:
    """A question (one or more lines of the asker) and the exchange that answered it."""

    group: str
    date: dt.date
    question: tuple[Message, ...]  # first line, then the asker's continuation lines
    answers: tuple[Message, ...]  # in order; mostly others, plus the asker's follow-ups
    question_seqs: tuple[int, ...]  # positions in the day's message list
    answer_seqs: tuple[int, ...]
    context: tuple[Message, ...] = ()  # lines before a question that leans on them
    kind: str = "exchange"  # exchange | chain | passage | window (bot.qa.units)
    excerpt: str = ""  # the matched text when it is not the question's lines (a quote, a talk's piece)
    piece: int = 0  # numbers the units of one kind that share an anchor line (bot.qa.units.day_units)

    @property
    def first(self) -> Message:
        return self.question[0]

    @property
    def unit_id(self) -> str:
        """The unit's stable id, `kind:group:date:anchor[:piece]` (anchor: the position of its first
        line in the day; piece: when several units of a kind start there). The same for the same day
        however often it is re-read or re-mined, so feedback, pins and hides keep naming it."""
        return format_unit_id(self.kind, self.group, self.date.isoformat(), self.question_seqs[0], self.piece)

    @property
    def asker(self) -> str:
        return self.question[0].speaker

    @property
    def question_text(self) -> str:
        return self.excerpt or "\n".join(said(m.text) for m in self.question)

    @property
    def context_text(self) -> str:
        return "\n".join(said(m.text) for m in self.context)

    @property
    def stands_alone(self) -> bool:
        """Would its question make sense to someone who missed the talk before it?"""
        if self.kind == "passage":
            return True
        text = self.question_text.strip()
        return bool(self.context) or not (
            leans_on_context(text) or text.startswith("@") or len(text) > TALK_CHARS)

    def messages(self) -> tuple[Message, ...]:
        """Every archived message the unit stands for, in order (context, question, answers)."""
        seen = dict.fromkeys((*self.context, *self.question, *self.answers))
        return tuple(sorted(seen, key=lambda m: m.time))

    def covers(self) -> tuple[tuple[str, str, str, str], ...]:
        """(group, date, HH:MM:SS, speaker) of each message: how an evaluation says right or wrong."""
        return tuple((self.group, self.date.isoformat(), m.time.strftime("%H:%M:%S"), m.speaker)
                     for m in self.messages())


def quote_reply(text: str) -> tuple[str, str, str] | None:
    """(quoted speaker, quoted text, reply) of a quote-reply, else None."""
    found = QUOTE_REPLY.match(text)
    return (found.group(1).strip(), found.group(2).strip(), found.group(3).strip()) if found else None


def said(text: str) -> str:
    """What the speaker said themselves: a quote-reply without the quote."""
    quoted = quote_reply(text)
    return quoted[2] if quoted else text


def leans_on_context(text: str) -> bool:
    return bool(LEANS_ON_CONTEXT.search(text) or POINTS_BACK.search(text))


def is_talk(message: Message) -> bool:
    """A long message: a talk, an announcement or a shared article, matched by its pieces."""
    return len(compact_text(message.text)) >= TALK_CHARS


@functools.lru_cache(maxsize=1 << 16)  # chat repeats itself; mining a copied archive stays fast
def compact_text(text: str) -> str:
    """The line's normalised text without spaces (bot.text.compact), cached: its length and its
    first characters decide what is a question, an answer, a talk and a unit (bot/qa/units.py)."""
    return compact(text)


def is_greeting(text: str) -> bool:
    """Hellos, thanks and agreement: never a question, never an answer on their own."""
    content = compact_text(text)
    return not content or bool(GREETING.match(content))


def is_question(message: Message) -> bool:
    """Does this line ask something? Text only, enough words, not a greeting."""
    return message.kind is MessageKind.TEXT and asks(message.text)


@functools.lru_cache(maxsize=1 << 16)
def asks(text: str) -> bool:
    """Does this text ask something? Enough words, not a greeting, a question form."""
    clean = strip_noise(text)  # also removes the "?" the export leaves after @name
    content = compact_text(clean)
    if len(content) < MIN_QUESTION_CHARS or not CJK.search(content) and len(content) < MIN_LATIN_QUESTION_CHARS:
        return False
    if is_greeting(clean):
        return False
    return bool(QUESTION_MARK.search(clean) or FINAL_PARTICLE.search(clean) or ASKING.search(NOT_ASKING.sub(" ", clean)))


def opens_exchange(message: Message) -> bool:
    """A question that can start an exchange: not a quote-reply, not a talk."""
    return is_question(message) and not message.text.lstrip().startswith("「") and not is_talk(message)


def is_substantive(message: Message) -> bool:
    """A text line with content that is not a greeting: what can answer, or fill a passage or window."""
    return (message.kind is MessageKind.TEXT and len(compact_text(message.text)) >= MIN_ANSWER_CHARS
            and not is_greeting(message.text))


@functools.lru_cache(maxsize=1 << 16)
def _words(text: str) -> frozenset[str]:
    """Character bigrams of the content: a cheap, segmentation-free topic fingerprint."""
    content = compact_text(text)
    return frozenset(content[i:i + 2] for i in range(len(content) - 1))


def _thread(messages: list[Message], start: int, q_seqs: list[int]) -> list[int]:
    """Positions of the messages that answer the question ending at q_seqs[-1]."""
    asker = messages[start].speaker
    asked_at = messages[start].time
    question_words = frozenset().union(*(_words(messages[i].text) for i in q_seqs))
    topic = set(question_words)
    participants = {asker}
    # Others' questions asked just before or meanwhile: parallel threads whose answers are theirs.
    # A line that matches neither goes to the newest question, so ties go to later rivals.
    rivals = [(_words(messages[j].text), 0) for j in range(max(0, start - 20), start)
              if messages[j].speaker != asker and asked_at - messages[j].time <= RIVAL_SPAN
              and opens_exchange(messages[j])]
    answers: list[int] = []
    last = messages[q_seqs[-1]].time
    is_open = True
    for j in range(q_seqs[-1] + 1, min(len(messages), q_seqs[-1] + 1 + MAX_SCAN)):
        m = messages[j]
        if m.time - asked_at > MENTION_SPAN or len(answers) >= MAX_ANSWERS:
            break
        to_asker = asker in m.mentions and m.speaker != asker
        if is_open and (m.time - last > THREAD_GAP or m.time - asked_at > THREAD_SPAN):
            is_open = False
        if to_asker:
            answers.append(j)
            participants.add(m.speaker)
            last = m.time
            continue
        if not is_open or m.kind is not MessageKind.TEXT:
            continue
        if m.mentions and not any(name in participants for name in m.mentions):
            continue  # talking to someone outside this exchange
        quoted = quote_reply(m.text)
        if quoted and not any(quoted[0].startswith(p[:6]) or p.startswith(quoted[0][:6]) for p in participants):
            continue  # a quote-reply to someone outside this exchange
        words = _words(said(m.text))
        if opens_exchange(m) and (m.speaker != asker or not (words & question_words)):
            rivals.append((words, 1))  # a new question (the asker's own on another topic): its own thread
            continue
        if m.speaker != asker and any(len(words & r) + later > len(words & topic) for r, later in rivals):
            continue  # closer to the parallel question than to this one
        if m.speaker == asker and not answers:
            continue  # more from the asker before any answer: handled as continuation or noise
        answers.append(j)
        participants.add(m.speaker)
        topic |= _words(m.text) if len(topic) < 200 else set()
        last = m.time
    return answers


def _continuation(messages: list[Message], i: int) -> list[int]:
    """The question line plus the asker's lines that directly follow it."""
    seqs = [i]
    asker = messages[i].speaker
    for j in range(i + 1, min(len(messages), i + 6)):
        m = messages[j]
        if m.speaker != asker or m.time - messages[seqs[-1]].time > CONTINUATION_GAP:
            break
        if m.kind is MessageKind.TEXT and not is_greeting(m.text):
            seqs.append(j)
    return seqs


def context_seqs(messages: list[Message], start: int) -> tuple[int, ...]:
    """The lines a question leaning on the talk refers to: others' substantive lines just before."""
    question = messages[start]
    if not leans_on_context(strip_noise(question.text)):
        return ()
    found: list[int] = []
    for j in range(start - 1, max(-1, start - 12), -1):
        m = messages[j]
        if question.time - m.time > CONTEXT_SPAN or len(found) >= CONTEXT_LINES:
            break
        if is_substantive(m) and (m.speaker != question.speaker or not found):
            found.append(j)
    return tuple(reversed(found))


def make_pair(day: Day, q_seqs, a_seqs) -> QAPair:
    """The exchange at these positions of the day, with the context its question leans on."""
    messages = day.messages
    c_seqs = context_seqs(messages, q_seqs[0])
    return QAPair(group=day.group, date=day.date, question=tuple(messages[j] for j in q_seqs),
                  answers=tuple(messages[j] for j in a_seqs), question_seqs=tuple(q_seqs),
                  answer_seqs=tuple(a_seqs), context=tuple(messages[j] for j in c_seqs))


def mine_day(day: Day) -> list[QAPair]:
    """Every answered question of the day, in order of asking.

    Reply links come first (bot/qa/reply_links.py); the rules below only pair what they left.
    """
    messages = day.messages
    linked = reply_threads(day, is_question)
    pairs: list[QAPair] = []
    for q_seq, a_seqs in linked.threads:
        _add_pair(pairs, day, [q_seq], a_seqs)
    # Linked lines, continuation lines and answers already attached: not a new question.
    merged: set[int] = set(linked.linked)
    for i, message in enumerate(messages):
        if i in merged or not opens_exchange(message):
            continue
        q_seqs = _continuation(messages, i)
        merged.update(q_seqs[1:])
        a_seqs = [j for j in _thread(messages, i, q_seqs) if j not in linked.linked]
        if _add_pair(pairs, day, q_seqs, a_seqs):
            merged.update(a_seqs)
    if linked.threads:
        pairs.sort(key=lambda pair: pair.question_seqs[0])
    return pairs


def _add_pair(pairs: list[QAPair], day: Day, q_seqs: list[int], a_seqs: list[int]) -> bool:
    """Append the pair when someone other than the asker said something substantive."""
    messages = day.messages
    asker = messages[q_seqs[0]].speaker
    if not any(messages[j].speaker != asker and is_substantive(messages[j]) for j in a_seqs):
        return False
    pairs.append(make_pair(day, q_seqs, a_seqs))
    return True


def mine_days(days: list[Day]) -> list[QAPair]:
    return [pair for day in days for pair in mine_day(day)]
