"""Retrieval units: everything in a day that can answer a question, not only mined exchanges.

About a quarter of the answers people look for sit outside question/answer exchanges: in talks and
announcements (long messages or a speaker's run of lines), in reply chains (a quote-reply
`「 name: text 」 - - - reply` answers the quoted line; an @-reply answers the named member's last
line; a platform reply link answers the line it points to) and in conversations that never had a clean question. Each unit is a `QAPair` with a `kind`,
so the answer, /thread and link code treat them alike: `first` is the anchor for the deep link,
`question_text` is what is matched as the question, `answers` are the lines to quote, and
`covers()` lists every archived message it stands for (the evaluation's notion of right).
Each unit's `unit_id` (`kind:group:date:anchor[:piece]`) names it in the answer log, feedback,
pins and hides; `parse_unit_id` takes such an id (or an older `pair:` key) apart.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass

from bot.archive.model import Day, Message, MessageKind
from bot.qa.mining import QAPair, compact_text, context_seqs, format_unit_id, is_substantive, quote_reply, said

TALK_BLOCK_GAP = dt.timedelta(minutes=2)  # a speaker's lines this close form one talk
PASSAGE_MIN_CHARS = 150  # a talk shorter than this is left to exchanges and windows
PIECE_CHARS = 220  # a passage is about this long, cut at sentence ends
REPLY_SPAN = dt.timedelta(hours=2)  # an @-reply answers the member's line at most this old
MAX_CHAIN = 12
CHAIN_ROOT_CHARS = 8  # a replied-to line shorter than this says too little to be matched
WINDOW_LINES = 6
WINDOW_STRIDE = 3
SENTENCE_END = re.compile(r"(?<=[。！？!?；;\n])")
UNIT_KINDS = ("exchange", "chain", "passage", "window")  # most structured first: the one shown per anchor
# Ids of archived places: the units, one archived message ("msg", pinned by its time) and the
# exchange keys written before units had ids ("pair:group:date:seq").
_UNIT_ID = re.compile(r"^(exchange|chain|passage|window|msg|pair):(.+):(\d{4}-\d{2}-\d{2}):(\d+)(?::(\d+))?$")


@dataclass(frozen=True, slots=True)
class UnitRef:
    """An archived unit id taken apart: which day and line it starts at, without finding it."""

    kind: str
    group: str
    date: str
    seq: int
    piece: int = 0

    def at(self, seq: int) -> str:
        """The id of the same unit starting at another line (its day's lines moved)."""
        return format_unit_id(self.kind, self.group, self.date, seq, self.piece)


def parse_unit_id(text: str) -> UnitRef | None:
    """The parts of an archived unit id (`QAPair.unit_id`, a "msg" or an old "pair" key), else None."""
    found = _UNIT_ID.match(text)
    if found is None:
        return None
    kind, group, date, seq, piece = found.groups()
    return UnitRef(kind, group, date, int(seq), int(piece or 0))


def _unit(day: Day, kind: str, question: list[int], answers: list[int], excerpt: str = "",
          context: tuple[int, ...] = ()) -> QAPair:
    m = day.messages
    return QAPair(group=day.group, date=day.date, question=tuple(m[i] for i in question),
                  answers=tuple(m[i] for i in answers), question_seqs=tuple(question),
                  answer_seqs=tuple(answers), context=tuple(m[i] for i in context), kind=kind, excerpt=excerpt)


def _pieces(text: str, size: int = PIECE_CHARS) -> list[str]:
    """Readable pieces of a long text: whole sentences, about `size` characters each."""
    pieces, current = [], ""
    for sentence in SENTENCE_END.split(text):
        if current and len(current) + len(sentence) > size:
            pieces.append(current.strip())
            current = ""
        while len(sentence) > 2 * size:  # one endless sentence: cut it
            pieces.append(sentence[:size].strip())
            sentence = sentence[size:]
        current += sentence
    if current.strip():
        pieces.append(current.strip())
    return [p for p in pieces if len(compact_text(p)) >= 8]


def passages(day: Day) -> list[QAPair]:
    """Pieces of talks: a speaker's consecutive text lines (or one long message), cut at sentences."""
    messages = day.messages
    units: list[QAPair] = []
    i = 0
    while i < len(messages):
        block = [i]
        while (block[-1] + 1 < len(messages) and messages[block[-1] + 1].speaker == messages[i].speaker
               and messages[block[-1] + 1].time - messages[block[-1]].time <= TALK_BLOCK_GAP):
            block.append(block[-1] + 1)
        i = block[-1] + 1
        lines = [j for j in block if messages[j].kind is MessageKind.TEXT and is_substantive(messages[j])]
        if sum(len(compact_text(messages[j].text)) for j in lines) < PASSAGE_MIN_CHARS:
            continue
        # Pieces never cross a message boundary mid-sentence: each piece keeps the lines it came from.
        piece_lines: list[int] = []
        piece = ""
        for j in lines:
            for part in _pieces(said(messages[j].text)):
                if piece and len(piece) + len(part) > PIECE_CHARS:
                    units.append(_unit(day, "passage", piece_lines, [], piece))
                    piece_lines, piece = [], ""
                piece = f"{piece}\n{part}" if piece else part
                if j not in piece_lines:
                    piece_lines.append(j)
        if piece:
            units.append(_unit(day, "passage", piece_lines, [], piece))
    return units


def _quoted_line(messages: list[Message], at: int, text: str) -> int | None:
    """The earlier line a quote-reply quotes: the one that opens with the quoted words."""
    head = compact_text(text)[:8]
    for j in range(at - 1, max(-1, at - 400), -1):
        if head and compact_text(said(messages[j].text)).startswith(head):
            return j
    return None


def _reply_parents(messages: list[Message]) -> tuple[dict[int, int], dict[int, str]]:
    """Which earlier line each reply answers (quote-replies, @-replies), and quotes not found in the day."""
    parent: dict[int, int] = {}
    lost_quotes: dict[int, str] = {}  # a quote-reply whose quoted line is not in the day: the quote
    position = {m.id: i for i, m in enumerate(messages) if m.id is not None}
    for i, m in enumerate(messages):
        if m.kind is not MessageKind.TEXT:
            continue
        if m.reply_to is not None:  # a platform reply link says it outright
            if position.get(m.reply_to, i) < i:
                parent[i] = position[m.reply_to]
            continue
        quoted = quote_reply(m.text)
        if quoted:
            j = _quoted_line(messages, i, quoted[1])
            if j is not None:
                parent[i] = j
            elif len(compact_text(quoted[1])) >= CHAIN_ROOT_CHARS:
                lost_quotes[i] = quoted[1]
            continue
        if not m.mentions or not is_substantive(m):
            continue
        for j in range(i - 1, max(-1, i - 200), -1):
            earlier = messages[j]
            if m.time - earlier.time > REPLY_SPAN:
                break
            if earlier.speaker in m.mentions and earlier.speaker != m.speaker and earlier.kind is MessageKind.TEXT:
                parent[i] = j
                break
    return parent, lost_quotes


def reply_chains(day: Day) -> list[QAPair]:
    """A line and the replies to it (and their replies): quote-replies and @-replies.

    A reply that asks again ("「A: talk」 - - - 垫资的授信是多少？") roots a chain of its own, with the
    line it replied to as context. A quote-reply whose quoted line is not in the day is matched by
    its quote and answered by its own reply.
    """
    messages = day.messages
    parent, lost_quotes = _reply_parents(messages)
    children: dict[int, list[int]] = {}
    for child, root in parent.items():
        children.setdefault(root, []).append(child)
    units = []
    for root in sorted(children):
        if len(compact_text(said(messages[root].text))) < CHAIN_ROOT_CHARS:
            continue  # "谢谢 明白了" replied to with an @ is no topic
        answers, todo = [], list(children[root])
        while todo and len(answers) < MAX_CHAIN:
            node = todo.pop(0)
            answers.append(node)
            todo.extend(children.get(node, []))
        context = (parent[root],) if root in parent else context_seqs(messages, root)
        units.append(_unit(day, "chain", [root], sorted(answers), context=context))
    for i, quote in lost_quotes.items():
        if len(compact_text(said(messages[i].text))) >= 2:
            units.append(_unit(day, "chain", [i], [i], quote))
    return units


def windows(day: Day) -> list[QAPair]:
    """Conversation windows: overlapping runs of a conversation's substantive lines
    (conversations as the digest splits them, bot.conversations)."""
    from bot.conversations import split_day

    units = []
    for conversation in split_day(day):
        lines = [i for i in conversation.positions if is_substantive(day.messages[i])]
        if len(lines) < 3:
            continue
        for start in range(0, max(1, len(lines) - WINDOW_LINES + WINDOW_STRIDE), WINDOW_STRIDE):
            part = lines[start:start + WINDOW_LINES]
            if len(part) < 3:
                break
            text = "\n".join(said(day.messages[i].text) for i in part)
            units.append(_unit(day, "window", part[:1], part[1:], text[:600]))
    return units


def day_units(day: Day, exchanges: list[QAPair]) -> list[QAPair]:
    """Every retrieval unit of a day: its mined exchanges, then reply chains, passages and windows,
    each with an id of its own (`_numbered`)."""
    return _numbered([*exchanges, *reply_chains(day), *passages(day), *windows(day)])


def _numbered(units: list[QAPair]) -> list[QAPair]:
    """Units of one kind that start at the same line (a long talk's pieces, a lost quote's chain
    beside the chain of replies to it) get pieces 0, 1, 2… in the day's order, so ids never clash."""
    seen: dict[tuple[str, int], int] = {}
    out = []
    for unit in units:
        key = (unit.kind, unit.question_seqs[0])
        piece = seen[key] = seen.get(key, -1) + 1
        out.append(unit if unit.piece == piece else dataclasses.replace(unit, piece=piece))
    return out
