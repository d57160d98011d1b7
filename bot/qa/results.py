"""What the answer engine returns: an archived unit with its score, a verdict on a question, a search hit.

Kept apart from the engine so what turns results into text (bot/qa/reply.py, bot/pinned.py) and
what stores them need not import the engine and everything it builds on.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.archive.model import Message
from bot.qa.mining import QAPair


@dataclass(frozen=True, slots=True)
class Match:
    """An archived exchange and how well it matches the question."""

    pair: QAPair
    score: float

    def to_json(self) -> dict:
        first = self.pair.first
        return {
            "kind": self.pair.kind,
            "group": self.pair.group,
            "date": self.pair.date.isoformat(),
            "time": first.time.strftime("%H:%M:%S"),
            "speaker": first.speaker,
            "question": self.pair.question_text,
            "answers": [
                {"time": m.time.strftime("%H:%M:%S"), "speaker": m.speaker, "text": m.text}
                for m in self.pair.answers
            ],
            "score": round(self.score, 4),
        }


@dataclass(frozen=True, slots=True)
class AskResult:
    """What the bot should do with a question: answer, suggest related discussions, or stay silent."""

    answered: bool
    confidence: float
    match: Match | None  # the answer, when answered
    candidates: tuple[Match, ...] = ()  # best first, up to 5
    suggest: bool = False  # between the thresholds: offer `related`

    @property
    def related(self) -> tuple[Match, ...]:
        return self.candidates[:3]

    def to_json(self) -> dict:
        return {
            "answered": self.answered,
            "confidence": round(self.confidence, 4),
            "match": self.match.to_json() if self.match else None,
            "candidates": [c.to_json() for c in self.candidates],
        }


SILENT = AskResult(answered=False, confidence=0.0, match=None)


@dataclass(frozen=True, slots=True)
class Hit:
    """One archived message found by search."""

    group: str
    message: Message
    score: float

    @property
    def date(self) -> dt.date:
        return self.message.time.date()

    def to_json(self) -> dict:
        return {
            "group": self.group,
            "date": self.date.isoformat(),
            "time": self.message.time.strftime("%H:%M:%S"),
            "speaker": self.message.speaker,
            "text": self.message.text,
            "score": round(self.score, 4),
        }
