"""The JSON API's shapes: request fields with their limits and the responses (pydantic models).

The OpenAPI document is generated from these through the handlers' annotations (bot/web/api.py).
Field names are those of the CLI's `--json` (`search`, `ask`, `stats`); what the web adds
(links, context, paging) comes after them.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

MAX_QUERY = 200
MAX_NAME = 200
FIRST_DATE = dt.date(1990, 1, 1)  # long before any chat archive; later than this and before
LAST_DATE = dt.date(2100, 12, 31)  # this, a date can be looked up; others are refused


def _plain_text(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    if any("\ud800" <= ch <= "\udfff" for ch in value):
        raise ValueError("must not contain lone surrogates")
    return value


def _archive_date(value: dt.date) -> dt.date:
    if not FIRST_DATE <= value <= LAST_DATE:
        raise ValueError(f"must be between {FIRST_DATE} and {LAST_DATE}")
    return value


Query = Annotated[str, Field(min_length=1, max_length=MAX_QUERY, description="words to look for"),
                  AfterValidator(_plain_text)]
Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME), AfterValidator(_plain_text)]
ArchiveDate = Annotated[dt.date, AfterValidator(_archive_date)]
Page = Annotated[int, Field(ge=1, le=1000, description="1 is the first page")]
PerPage = Annotated[int, Field(ge=1, le=50)]


class Problem(BaseModel):
    """Why a request was refused."""

    error: str
    details: list[dict] = []


class ContextLine(BaseModel):
    time: str
    speaker: str
    text: str
    anchor: str = Field(description="the message's anchor in its day page: #t-HHMMSS")
    hit: bool = Field(description="true for the line that matched")


class SearchHit(BaseModel):
    group: str
    date: str
    time: str
    speaker: str
    text: str
    score: float
    link: str = Field(description="the message in its day: /archive/<group>/<date>#t-HHMMSS")
    qa: str | None = Field(description="the page of the exchange the hit belongs to, if it was mined as one")
    context: list[ContextLine]


class SearchResponse(BaseModel):
    query: str
    group: str | None
    speaker: str | None
    since: str | None
    until: str | None
    page: int
    per_page: int
    pages: int
    total: int = Field(description="hits after the filters, among the engine's best 200")
    results: list[SearchHit]


class AnswerLine(BaseModel):
    time: str
    speaker: str
    text: str


class AskMatch(BaseModel):
    model_config = ConfigDict(extra="allow")

    group: str
    date: str
    time: str
    speaker: str
    question: str
    answers: list[AnswerLine]
    score: float
    qa: str = Field(description="the unit's page: /archive/qa/<kind>:<group>:<date>:<n>[:<piece>]")


class AskResponse(BaseModel):
    """`archive-bot ask --json`."""

    model_config = ConfigDict(extra="allow")

    answered: bool
    confidence: float
    match: AskMatch | None
    candidates: list[AskMatch]


class DayMessage(BaseModel):
    time: str
    speaker: str
    text: str
    kind: str = Field(description="text, image or emoji")
    image_url: str | None
    anchor: str
    id: str | None = Field(description="the message's id in the archive format, when it has one")
    reply_to: str | None


class DayResponse(BaseModel):
    group: str
    date: str
    title: str
    previous: str | None = Field(description="the group's archived day before this one")
    next: str | None
    messages: list[DayMessage]


class GroupInfo(BaseModel):
    """One group of `archive-bot stats --json`."""

    group: str
    days: int
    messages: int
    speakers: int
    first_date: str | None
    last_date: str | None


class GroupsResponse(BaseModel):
    groups: list[GroupInfo]


class SearchForm(BaseModel):
    """The search page's form: the API's search fields; an empty query shows the form alone."""

    q: Annotated[str, Field(max_length=MAX_QUERY), AfterValidator(_plain_text)] = ""
    group: Name | None = None
    speaker: Name | None = None
    since: ArchiveDate | None = None
    until: ArchiveDate | None = None
    page: Page = 1
