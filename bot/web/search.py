"""Search results as conversations: the engine's hits, filtered, paged and shown in their context.

The hits come from `AnswerEngine.search`, the same call (engine and ranking) as the bot's
`/search`. On top of it the web adds what a reader needs: filters (date range, speaker; the
group goes to the engine), substantive lines before one-word remarks (a stable re-order, the
engine's order kept within each tier), pages, and for each hit on the page the exchange it
belongs to (a mined question and its answers) or a few messages of its conversation
(bot.conversations), with the query's words marked.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from dataclasses import dataclass

from markupsafe import Markup, escape

from bot.archive.model import Day, Message
from bot.conversations import GAP, LINK_SPAN, content, is_chatter, split_messages
from bot.links import day_path, qa_path
from bot.qa.mining import QAPair
from bot.services import Services
from bot.web.days import anchor
from bot.text import normalise

POOL = 200  # engine hits read per query: filters and pages work within the best 200
SUBSTANTIVE_CHARS = 10  # a line saying less than this (its own words) is a remark, shown after the rest
AROUND = 2  # conversation messages shown before and after a hit
MAX_EXCHANGE = 8  # messages of an exchange shown with a hit


@dataclass(frozen=True, slots=True)
class SearchRequest:
    """A validated search: see bot.web.models.SearchParams for the limits."""

    q: str
    group: str | None = None
    speaker: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    page: int = 1
    per_page: int = 10


@dataclass(frozen=True, slots=True)
class ContextLine:
    time: str
    speaker: str
    text: str
    anchor: str
    hit: bool

    def to_json(self) -> dict:
        return {"time": self.time, "speaker": self.speaker, "text": self.text, "anchor": self.anchor, "hit": self.hit}


@dataclass(frozen=True, slots=True)
class Result:
    """One hit with its context; `to_json` starts with the CLI's `search --json` fields."""

    group: str
    date: str
    time: str
    speaker: str
    text: str
    score: float
    link: str
    context: tuple[ContextLine, ...]
    qa: str | None  # the exchange's page, when the hit belongs to a mined exchange

    def to_json(self) -> dict:
        return {"group": self.group, "date": self.date, "time": self.time, "speaker": self.speaker, "text": self.text,
                "score": self.score, "link": self.link, "qa": self.qa, "context": [c.to_json() for c in self.context]}


@dataclass(frozen=True, slots=True)
class ResultPage:
    request: SearchRequest
    results: list[Result]
    total: int  # hits after the filters (within the POOL best)
    ready: bool  # False while the answer index is loading

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.request.per_page))

    def to_json(self) -> dict:
        r = self.request
        return {"query": r.q, "group": r.group, "speaker": r.speaker,
                "from": r.date_from.isoformat() if r.date_from else None,
                "to": r.date_to.isoformat() if r.date_to else None,
                "page": r.page, "per_page": r.per_page, "pages": self.pages, "total": self.total,
                "results": [x.to_json() for x in self.results]}


def substantive(message: Message) -> bool:
    return not is_chatter(message) and len(content(message.text)) >= SUBSTANTIVE_CHARS


def _wanted(hit, request: SearchRequest) -> bool:
    date = hit.date
    if request.date_from and date < request.date_from or request.date_to and date > request.date_to:
        return False
    return request.speaker is None or request.speaker.casefold() in hit.message.speaker.casefold()


def _position(day: Day, message: Message) -> int | None:
    for i, m in enumerate(day.messages):
        if m is message:
            return i
    for i, m in enumerate(day.messages):
        if m.time == message.time and m.text == message.text and m.speaker == message.speaker:
            return i
    return None


def _conversation(day: Day, position: int) -> list[int]:
    """The hit's conversation, split from the messages of the hours around it (a talk's links
    reach back at most LINK_SPAN and pause after GAP, so the rest of the day cannot change it)."""
    hit_time = day.messages[position].time
    start = position
    while start > 0 and hit_time - day.messages[start - 1].time <= LINK_SPAN:
        start -= 1
    end = position + 1
    while end < len(day.messages) and day.messages[end].time - hit_time <= GAP:
        end += 1
    for conversation in split_messages(day.messages[start:end]):
        if position - start in conversation.positions:
            return [start + i for i in conversation.positions]
    return [position]


def _context(day: Day, pairs: list[QAPair], position: int) -> tuple[list[int], QAPair | None]:
    """Positions shown with the hit: its exchange when mined, else its conversation's neighbours."""
    for pair in pairs:
        seqs = (*pair.question_seqs, *pair.answer_seqs)
        if position in seqs:
            if len(seqs) > MAX_EXCHANGE:
                keep = set(seqs[:len(pair.question_seqs)]) | {position}
                rest = [s for s in seqs if s not in keep]
                rest.sort(key=lambda s: abs(s - position))
                seqs = tuple(sorted(keep | set(rest[:MAX_EXCHANGE - len(keep)])))
            return sorted(set(seqs)), pair
    positions = _conversation(day, position)
    i = positions.index(position)
    return positions[max(0, i - AROUND):i + AROUND + 1], None


def _result(hit, day: Day | None, pairs: list[QAPair]) -> Result:
    message = hit.message
    position = _position(day, message) if day is not None else None
    lines: list[ContextLine] = []
    pair = None
    if position is not None:
        shown, pair = _context(day, pairs, position)
        lines = [ContextLine(f"{m.time:%H:%M:%S}", m.speaker, m.text, anchor(m), i == position)
                 for i in shown for m in [day.messages[i]]]
    if not lines:
        lines = [ContextLine(f"{message.time:%H:%M:%S}", message.speaker, message.text, anchor(message), True)]
    return Result(
        group=hit.group, date=hit.date.isoformat(), time=f"{message.time:%H:%M:%S}", speaker=message.speaker,
        text=message.text, score=round(hit.score, 4), link=day_path(hit.group, hit.date, message.time.time()),
        context=tuple(lines), qa=qa_path(pair) if pair is not None else None)


def run_search(services: Services, request: SearchRequest) -> ResultPage:
    """The page of results for a request (blocking: call it in a thread).

    Days and mined exchanges come from the engine that found the hits, so they are the same
    version of the day and nothing is read from the store.
    """
    engine = services.answers
    if engine is None:
        return ResultPage(request, [], 0, ready=False)
    hits = [h for h in engine.search(request.q, group=request.group, limit=POOL) if _wanted(h, request)]
    hits.sort(key=lambda h: not substantive(h.message))  # stable: the engine's order within each tier
    start = (request.page - 1) * request.per_page
    shown = hits[start:start + request.per_page]
    keys = {(h.group, h.date) for h in shown}
    days = {(d.group, d.date): d for d in engine.days if (d.group, d.date) in keys} if keys else {}
    pairs: dict[tuple[str, dt.date], list[QAPair]] = {}
    for pair in engine.pairs() if keys else ():
        if (pair.group, pair.date) in keys:
            pairs.setdefault((pair.group, pair.date), []).append(pair)
    results = [_result(hit, days.get((hit.group, hit.date)), pairs.get((hit.group, hit.date), [])) for hit in shown]
    return ResultPage(request, results, len(hits), ready=True)


async def search(services: Services, request: SearchRequest) -> ResultPage:
    return await asyncio.to_thread(run_search, services, request)


def query_terms(query: str, services: Services) -> list[str]:
    """What to mark in the results: the whole query, its space-separated parts and its words."""
    terms = {query.strip(), *query.split()}
    engine = services.answers
    if engine is not None:
        terms.update(w for w in engine.segmenter.words(normalise(query), normalised=True) if len(w) > 1)
    return sorted((t for t in terms if t), key=len, reverse=True)


def highlight(text: str, terms: list[str]) -> Markup:
    """The text escaped, each occurrence of a term (case-insensitive) in <mark>."""
    if not terms:
        return escape(text)
    pattern = re.compile("|".join(re.escape(t) for t in terms), re.IGNORECASE)
    out, last = [], 0
    for match in pattern.finditer(text):
        out.append(escape(text[last:match.start()]))
        out.append(Markup("<mark>{}</mark>").format(match.group(0)))
        last = match.end()
    out.append(escape(text[last:]))
    return Markup("").join(out)
