"""Question/answer exchanges read from reply links, before any guessing.

Imported Telegram and Slack days (and published live days) say which message replies to which
(`Message.reply_to`, see bot.archive.links). Where a question has linked replies, those replies,
and the replies to them, are its exchange: no time window or topic overlap needs to guess. Mining
(bot/qa/mining.py) takes these first and keeps its heuristics for questions nobody replied to
explicitly; messages that reply to something are never handed to another question by the
heuristics (`ReplyThreads.linked`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bot.archive.model import Day, Message

MAX_LINKED_ANSWERS = 12


@dataclass(slots=True)
class ReplyThreads:
    """The day's exchanges that reply links define."""

    threads: list[tuple[int, list[int]]] = field(default_factory=list)  # (question seq, answer seqs in order)
    linked: set[int] = field(default_factory=set)  # seqs that reply to a message or are a linked question

    def question_seqs(self) -> set[int]:
        return {question for question, _ in self.threads}


def reply_threads(day: Day, is_question: Callable[[Message], bool],
                  max_answers: int = MAX_LINKED_ANSWERS) -> ReplyThreads:
    """For every question that has replies on the same day: its replies and their replies, in order.

    A day without reply links gives no threads (and links nothing), so mining behaves as before.
    """
    messages = day.messages
    position = {m.id: seq for seq, m in enumerate(messages) if m.id is not None}
    children: dict[int, list[int]] = {}
    result = ReplyThreads()
    for seq, message in enumerate(messages):
        if message.reply_to is None:
            continue
        result.linked.add(seq)
        parent = position.get(message.reply_to)
        if parent is not None and parent < seq:
            children.setdefault(parent, []).append(seq)
    for seq in sorted(children):
        if not is_question(messages[seq]):
            continue
        answers = _descendants(children, seq, max_answers)
        result.threads.append((seq, answers))
        result.linked.add(seq)
    return result


def _descendants(children: dict[int, list[int]], root: int, limit: int) -> list[int]:
    """Replies to `root` and replies to those, in day order, at most `limit` of them."""
    found: set[int] = set()
    frontier = [root]
    while frontier and len(found) < limit:
        frontier = [child for parent in frontier for child in children.get(parent, ()) if child not in found]
        found.update(frontier)
    return sorted(found)[:limit]
