"""The answer log and its feedback: what the bot posted, and what members said about it.

Every answer and suggestion is recorded with the bot's own message ids (so a reaction or a reply
to one of them finds the answer); feedback is one verdict per member and answer (+1 right,
-1 wrong), a member's later verdict replacing theirs. bot/learning.py reads the verdicts back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, and_, delete, func, insert, select, update

from bot.store.db import writing
from bot.store.schema import answer_feedback, answer_messages, answers

RIGHT, WRONG = 1, -1


@dataclass(frozen=True, slots=True)
class Logged:
    """One answer the bot posted."""

    id: int
    platform: str
    chat_id: str
    kind: str
    question: str
    unit: str
    score: float
    prompted: bool


@dataclass(frozen=True, slots=True)
class Verdict:
    """A unit's feedback for one question in a chat (the sum of members' verdicts)."""

    unit: str
    question: str
    verdict: int  # > 0 right, < 0 wrong


def record(db: Engine, *, platform: str, chat_id: str, group: str, kind: str, prompted: bool,
           question_message_id: str | None, asker_id: str | None, question: str, unit: str, score: float,
           ts: int, message_ids: Iterable[str]) -> int:
    """Log one posted answer with the bot's message ids; returns its id."""
    with writing(db) as conn:
        return record_in(conn, platform=platform, chat_id=chat_id, group=group, kind=kind, prompted=prompted,
                         question_message_id=question_message_id, asker_id=asker_id, question=question,
                         unit=unit, score=score, ts=ts, message_ids=message_ids)


def record_in(conn: Connection, *, platform: str, chat_id: str, group: str, kind: str, prompted: bool,
              question_message_id: str | None, asker_id: str | None, question: str, unit: str, score: float,
              ts: int, message_ids: Iterable[str]) -> int:
    """`record` inside the caller's transaction (bot/answer_writes.py commits many at once)."""
    answer_id = conn.execute(insert(answers).values(
        platform=platform, chat_id=chat_id, group_name=group, kind=kind, prompted=prompted,
        question_message_id=question_message_id, asker_id=asker_id, question=question, unit=unit,
        score=float(score), ts=ts)).inserted_primary_key[0]
    rows = [{"platform": platform, "chat_id": chat_id, "message_id": m, "answer_id": answer_id}
            for m in dict.fromkeys(message_ids) if m]
    if rows:
        conn.execute(insert(answer_messages), rows)
    return int(answer_id)


def _logged(row) -> Logged:
    return Logged(row.id, row.platform, row.chat_id, row.kind, row.question, row.unit, row.score, row.prompted)


def find(db: Engine, platform: str, chat_id: str, message_id: str, *, questions: bool = True) -> Logged | None:
    """The answer a message belongs to: one of the bot's own messages, else (with `questions`) the
    question it answered (Slack threads reply to the question) — the latest answer to it."""
    with db.connect() as conn:
        row = conn.execute(select(answers).join(answer_messages, answer_messages.c.answer_id == answers.c.id)
                           .where(answer_messages.c.platform == platform, answer_messages.c.chat_id == chat_id,
                                  answer_messages.c.message_id == message_id)).first()
        if row is None and questions:
            row = conn.execute(select(answers).where(
                answers.c.platform == platform, answers.c.chat_id == chat_id,
                answers.c.question_message_id == message_id).order_by(answers.c.id.desc()).limit(1)).first()
    return _logged(row) if row is not None else None


def latest(db: Engine, platform: str, chat_id: str) -> Logged | None:
    """The chat's most recent answer (what a bare /wrong refers to)."""
    with db.connect() as conn:
        row = conn.execute(select(answers).where(answers.c.platform == platform, answers.c.chat_id == chat_id)
                           .order_by(answers.c.id.desc()).limit(1)).first()
    return _logged(row) if row is not None else None


def give(db: Engine, answer_id: int, member_id: str, verdict: int, source: str, ts: int) -> bool:
    """Store a member's verdict on an answer (replacing their earlier one); True when it changed."""
    with db.begin() as conn:
        key = and_(answer_feedback.c.answer_id == answer_id, answer_feedback.c.member_id == member_id)
        old = conn.execute(select(answer_feedback.c.verdict).where(key)).scalar()
        if old == verdict:
            return False
        if old is None:
            conn.execute(insert(answer_feedback).values(answer_id=answer_id, member_id=member_id, verdict=verdict,
                                                        source=source, ts=ts))
        else:
            conn.execute(update(answer_feedback).where(key).values(verdict=verdict, source=source, ts=ts))
    return True


def withdraw(db: Engine, answer_id: int, member_id: str, source: str) -> bool:
    """Take back a member's verdict given by `source` (a removed reaction); True when one was there."""
    with db.begin() as conn:
        return conn.execute(delete(answer_feedback).where(
            answer_feedback.c.answer_id == answer_id, answer_feedback.c.member_id == member_id,
            answer_feedback.c.source == source)).rowcount > 0


def verdicts(db: Engine, platform: str, chat_id: str) -> list[Verdict]:
    """Per (unit, question) of the chat's answers, the sum of members' verdicts (non-zero only)."""
    total = func.sum(answer_feedback.c.verdict)
    with db.connect() as conn:
        rows = conn.execute(
            select(answers.c.unit, answers.c.question, total)
            .join(answer_feedback, answer_feedback.c.answer_id == answers.c.id)
            .where(answers.c.platform == platform, answers.c.chat_id == chat_id)
            .group_by(answers.c.unit, answers.c.question)).all()
    return [Verdict(unit, question, int(sum_)) for unit, question, sum_ in rows if sum_]


def labelled(db: Engine) -> list[tuple[str, str, str, int]]:
    """(group, question, unit, verdict sum) of every answer with feedback: labelled data for refits."""
    total = func.sum(answer_feedback.c.verdict)
    with db.connect() as conn:
        rows = conn.execute(
            select(answers.c.group_name, answers.c.question, answers.c.unit, total)
            .join(answer_feedback, answer_feedback.c.answer_id == answers.c.id)
            .group_by(answers.c.group_name, answers.c.question, answers.c.unit)).all()
    return [(g, q, u, int(s)) for g, q, u, s in rows if s]


@dataclass(frozen=True, slots=True)
class Counts:
    """Answers given and the feedback they received, for /stats and the digest."""

    answers: int = 0
    suggestions: int = 0
    right: int = 0
    wrong: int = 0


def counts(db: Engine, platform: str, chat_id: str, since_ts: int = 0, until_ts: int | None = None) -> Counts:
    """What the bot posted in a chat between two times, and the verdicts members gave on it."""
    where = [answers.c.platform == platform, answers.c.chat_id == chat_id, answers.c.ts >= since_ts]
    if until_ts is not None:
        where.append(answers.c.ts < until_ts)
    with db.connect() as conn:
        kinds = dict(conn.execute(select(answers.c.kind, func.count()).where(*where).group_by(answers.c.kind)).all())
        marks = dict(conn.execute(
            select(answer_feedback.c.verdict, func.count())
            .join(answers, answers.c.id == answer_feedback.c.answer_id)
            .where(*where).group_by(answer_feedback.c.verdict)).all())
    return Counts(kinds.get("answer", 0), kinds.get("suggestion", 0), marks.get(RIGHT, 0), marks.get(WRONG, 0))


def forget_asker(conn, asker_ids: Iterable[str], platform: str | None = None) -> int:
    """Erasure: drop the answers to questions these members asked (their words); returns how many."""
    ids = list(asker_ids)
    if not ids:
        return 0
    where = [answers.c.asker_id.in_(ids)]
    if platform is not None:
        where.append(answers.c.platform == platform)
    doomed = [row[0] for row in conn.execute(select(answers.c.id).where(*where))]
    for start in range(0, len(doomed), 500):
        chunk = doomed[start:start + 500]
        conn.execute(delete(answer_feedback).where(answer_feedback.c.answer_id.in_(chunk)))
        conn.execute(delete(answer_messages).where(answer_messages.c.answer_id.in_(chunk)))
        conn.execute(delete(answers).where(answers.c.id.in_(chunk)))
    return len(doomed)
