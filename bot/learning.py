"""What a chat taught the bot, applied to the engine's verdict before anything is posted.

Units have stable keys (`unit_key`): an archived unit of any kind by its id (`QAPair.unit_id`:
kind, group, date, first line, piece), a single archived message by its place, a live message by
its platform id. A unit members marked wrong for a question is never posted unprompted again in that chat for that question or a
close paraphrase (`paraphrase_similarity`), and is demoted (`wrong_factor`) for similar questions
(`similar_similarity`); one marked right gains `right_bonus` for similar questions. Hidden units
are dropped everywhere; pinned ones come first (handlers/curation.py renders them).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from sqlalchemy import Engine

from bot.config import FeedbackSection
from bot.context import question_key
from bot.qa.mining import format_unit_id
from bot.qa.units import parse_unit_id
from bot.store import answers as answer_log
from bot.store import curation


def unit_key(pair) -> str:
    """The key of an archived unit of any kind (bot.qa.mining.QAPair.unit_id)."""
    return pair.unit_id


def _lines(pair) -> set[tuple[str, str, int]]:
    date = pair.date.isoformat()
    return {(pair.group, date, seq) for seq in (*pair.question_seqs, *pair.answer_seqs)}


def _hidden_anchors(hidden: frozenset[str]) -> set[tuple[str, str, int]]:
    """(group, date, line) where each hidden archived unit or message starts."""
    refs = [parse_unit_id(key) for key in hidden]
    return {(ref.group, ref.date, ref.seq) for ref in refs if ref is not None}


def _shows_hidden(pair, hidden: frozenset[str], anchors: set[tuple[str, str, int]]) -> bool:
    """Whether a unit is hidden or quotes the first line of a hidden unit or message (a reply chain
    or a conversation window over the same lines must not bring a hidden answer back, nor another
    piece of a hidden talk: it quotes the same message)."""
    return pair.unit_id in hidden or bool(_lines(pair) & anchors)


def message_unit(group: str, date: str, seq: int) -> str:
    return format_unit_id("msg", group, date, seq)


def live_unit(platform: str, chat_id: str, message_id: str) -> str:
    return f"live:{platform}:{chat_id}:{message_id}"


def _bigrams(text: str) -> set[str]:
    return {text[i:i + 2] for i in range(len(text) - 1)} or {text}


def similarity(a: str, b: str) -> float:
    """How alike two questions are in [0, 1]: shared characters and character pairs (Dice), which
    survive reordering ("为什么财付通算发卡行" / "财付通为什么算发卡行") without a segmenter."""
    a, b = question_key(a), question_key(b)
    if not a or not b:
        return 0.0
    chars_a, chars_b = set(a), set(b)
    pairs_a, pairs_b = _bigrams(a), _bigrams(b)
    chars = 2 * len(chars_a & chars_b) / (len(chars_a) + len(chars_b))
    pairs = 2 * len(pairs_a & pairs_b) / (len(pairs_a) + len(pairs_b))
    return (chars + pairs) / 2


@dataclass(frozen=True)
class Lessons:
    """A chat's feedback and curation, read once per question."""

    verdicts: list[answer_log.Verdict] = field(default_factory=list)
    pins: list[curation.Curated] = field(default_factory=list)  # newest first
    hidden: frozenset[str] = frozenset()


def lessons(db: Engine, platform: str, chat_id: str) -> Lessons:
    curated = curation.of_chat(db, platform, chat_id)
    return Lessons(answer_log.verdicts(db, platform, chat_id),
                   [c for c in curated if c.action == "pin"],
                   frozenset(c.unit for c in curated if c.action == "hide"))


def pinned(question: str, taught: Lessons, config: FeedbackSection) -> curation.Curated | None:
    """The newest pin whose question this one repeats or closely paraphrases."""
    for pin in taught.pins:
        if pin.unit not in taught.hidden and similarity(question, pin.question) >= config.paraphrase_similarity:
            return pin
    return None


def blocked(question: str, unit: str, taught: Lessons, config: FeedbackSection) -> bool:
    """Members said `unit` is wrong for this question or a close paraphrase (or an admin hid it)."""
    if unit in taught.hidden:
        return True
    return any(v.verdict < 0 and v.unit == unit and similarity(question, v.question) >= config.paraphrase_similarity
               for v in taught.verdicts)


def _score(question: str, unit: str, score: float, taught: Lessons, config: FeedbackSection) -> float:
    for verdict in taught.verdicts:
        if verdict.unit != unit or similarity(question, verdict.question) < config.similar_similarity:
            continue
        score = score * config.wrong_factor if verdict.verdict < 0 else min(1.0, score + config.right_bonus)
    return score


def apply(result, question: str, taught: Lessons, config: FeedbackSection, answer_threshold: float,
          suggest_threshold: float, *, prompted: bool):
    """The engine's `AskResult` after the chat's lessons: hidden units and (unprompted) units flagged
    wrong for this question dropped, the others' confidence demoted or raised, the verdict redone."""
    if not taught.verdicts and not taught.hidden:
        return result
    kept = []
    anchors = _hidden_anchors(taught.hidden)
    # Lines of hidden units among the candidates: a chain or window over them is hidden too.
    hidden_lines = {line for m in result.candidates if m.pair.unit_id in taught.hidden for line in _lines(m.pair)}
    for match in result.candidates:
        unit = match.pair.unit_id
        if (_shows_hidden(match.pair, taught.hidden, anchors) or _lines(match.pair) & hidden_lines
                or (not prompted and blocked(question, unit, taught, config))):
            continue
        kept.append(dataclasses.replace(match, score=_score(question, unit, match.score, taught, config)))
    kept.sort(key=lambda m: m.score, reverse=True)
    best = kept[0].score if kept else 0.0
    # The engine refuses to answer questions that say too little however confident it is: keep that.
    too_vague = not result.answered and result.confidence >= answer_threshold
    answered = bool(kept) and best >= answer_threshold and not too_vague
    return dataclasses.replace(result, answered=answered, confidence=best, match=kept[0] if answered else None,
                               candidates=tuple(kept), suggest=not answered and best >= suggest_threshold)
