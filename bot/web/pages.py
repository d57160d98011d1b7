"""The archive pages: every group, a group with its charts, one day, search, one exchange.

Rendered with Jinja2 (autoescaped). Images stay links: the page never loads third-party content;
only http, https and relative links are clickable (bot/web/safety.py), and every response
carries a strict Content-Security-Policy.
Message anchors are `t-HHMMSS`, the deep links `bot.links` builds for answers.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from pathlib import Path

import jinja2
from aiohttp import web
from markupsafe import Markup, escape
from pydantic import ValidationError

from bot.archive.reader import MENTION
from bot.config import WebSection
from bot.erasure_watch import caught_up
from bot.links import day_path, parse_qa_id
from bot.qa.units import UNIT_KINDS, parse_unit_id
from bot.services import SERVICES, Services
from bot.store import queries
from bot.web import charts
from bot.web.api import create_api
from bot.web.auth import THROTTLE, LoginThrottle, check_access, require_password
from bot.web.days import anchor, load_day_view
from bot.web.models import SearchForm
from bot.web.safety import safe_link
from bot.web.search import SearchRequest, highlight, query_terms, search

HERE = Path(__file__).parent
TEMPLATES = web.AppKey("archive_templates", jinja2.Environment)
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
TOP_MEMBERS = 15


def _message_html(text: str) -> Markup:
    """Escape the text and mark @mentions; newlines stay (CSS pre-wrap)."""
    out, last = [], 0
    for match in MENTION.finditer(text):
        out.append(escape(text[last:match.start()]))
        out.append(Markup('<span class="mention">{}</span>').format(text[match.start():match.end(1)]))
        last = match.end(1)  # the separator after the name stays plain text
    out.append(escape(text[last:]))
    return Markup("").join(out)


def _rows(messages) -> list[dict]:
    rows, seen = [], set()
    for message in messages:
        name = anchor(message)
        rows.append(dict(
            time=f"{message.time:%H:%M:%S}", speaker=message.speaker, kind=message.kind.value,
            image_url=message.image_url, image_link=safe_link(message.image_url),
            html=_message_html(message.text),
            anchor=None if name in seen else name, anchor_of_second=name,
        ))
        seen.add(name)
    return rows


def _render(request: web.Request, template: str, status: int = 200, **context) -> web.Response:
    services: Services = request.app[SERVICES]
    require_password(request, services.config.web)
    page = request.app[TEMPLATES].get_template(template).render(bot_name=services.config.bot.name, **context)
    return web.Response(text=page, status=status, content_type="text/html",
                        headers={"Cache-Control": "private, no-store"})


def _date(text: str) -> dt.date:
    if not DATE.match(text):
        raise web.HTTPBadRequest(text="Dates look like 2018-02-28.\n")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise web.HTTPBadRequest(text=f"{text} is not a date.\n") from None


async def index(request: web.Request) -> web.Response:
    await check_access(request, request.app[SERVICES].config.web)
    stats = await asyncio.to_thread(queries.stats, request.app[SERVICES].db)
    return _render(request, "index.html", groups=stats.groups)


def _group_data(services: Services, group: str):
    return queries.list_days(services.db, group), queries.top_speakers(services.db, group, TOP_MEMBERS)


async def group_page(request: web.Request) -> web.Response:
    services: Services = request.app[SERVICES]
    await check_access(request, services.config.web)
    group = request.match_info["group"]
    day_list, speakers = await asyncio.to_thread(_group_data, services, group)
    if not day_list:
        raise web.HTTPNotFound(text=f"No archived days for group {group!r}.\n")
    counts = [(d.date, d.message_count) for d in day_list]
    return _render(request, "group.html", group=group, days=list(reversed(day_list)),
                   per_day=charts.per_day(counts), calendar=charts.calendar(group, counts),
                   members=charts.top_members(speakers), messages=sum(n for _, n in counts))


async def day_page(request: web.Request) -> web.Response:
    services: Services = request.app[SERVICES]
    await check_access(request, services.config.web)
    group, date = request.match_info["group"], _date(request.match_info["date"])
    view = await load_day_view(services, group, date)
    if view is None:
        raise web.HTTPNotFound(text=f"Nothing archived for {group} on {date}.\n")
    day = view.day
    return _render(
        request, "day.html", group=group, day=day, rows=_rows(day.messages),
        speakers=len({m.speaker for m in day.messages}), by_hour=charts.by_hour([m.time for m in day.messages]),
        prev_date=view.previous, next_date=view.next,
    )


def _form_errors(error: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                     for e in error.errors(include_url=False, include_input=False, include_context=False))


async def search_page(request: web.Request) -> web.Response:
    services: Services = request.app[SERVICES]
    await check_access(request, services.config.web)
    raw = {key: value for key, value in request.query.items() if value.strip() and key in SearchForm.model_fields}
    try:
        form = SearchForm.model_validate(raw)
    except ValidationError as error:
        return _render(request, "search.html", status=400, form=None, query="", error=_form_errors(error))
    if form.since and form.until and form.since > form.until:
        return _render(request, "search.html", status=400, form=None, query="", error="since is after until")
    query = form.q.strip()
    found, terms = None, []
    if query:
        found = await search(services, SearchRequest(query, form.group, form.speaker, form.since, form.until, form.page))
        terms = query_terms(query, services)
    groups = await asyncio.to_thread(queries.groups, services.db)

    def page_link(page: int) -> str:
        params = {k: v for k, v in raw.items() if k != "page"}
        return str(request.rel_url.with_query({**params, "page": page}))

    return _render(request, "search.html", form=form, query=query, group=form.group, found=found, groups=groups,
                   mark=lambda text: highlight(text, terms), page_link=page_link, error=None)


def _pair_view(services: Services, group: str, date: dt.date, seq: int):
    from bot.qa.day_pairs import load_days_and_pairs

    for day, pairs in load_days_and_pairs(services.db, keys=[(group, date.isoformat())], zone=services.zone):
        for pair in pairs:
            if pair.question_seqs[0] == seq:
                return pair
    return None


def _unit_view(services: Services, unit_id: str, group: str, date: dt.date, seq: int, kind: str):
    """A unit by its id from the loaded engine (an exchange from the store while it loads)."""
    if services.answers is not None:
        return services.answers.unit(unit_id)
    return _pair_view(services, group, date, seq) if kind == "exchange" else None


def _page_unit(services: Services, text: str):
    """The unit a /archive/qa/ id names: a unit id (any kind) or an older exchange id; raises 400."""
    ref = parse_unit_id(text)
    if ref is not None and ref.kind in UNIT_KINDS:
        try:
            date = dt.date.fromisoformat(ref.date)
        except ValueError:
            raise web.HTTPBadRequest(text="No such date.\n") from None
        return ref.group, date, _unit_view(services, text, ref.group, date, ref.seq, ref.kind)
    parsed = parse_qa_id(text)
    if parsed is None:
        raise web.HTTPBadRequest(text="An answer's id looks like <kind>:<group>:<YYYY-MM-DD>:<number>.\n")
    group, date, seq = parsed
    return group, date, _pair_view(services, group, date, seq)


async def qa_page(request: web.Request) -> web.Response:
    services: Services = request.app[SERVICES]
    await check_access(request, services.config.web)
    group, date, pair = await asyncio.to_thread(_page_unit, services, request.match_info["id"])
    if pair is None:
        raise web.HTTPNotFound(text="No such exchange: the day may have changed since the link was made.\n")
    return _render(request, "qa.html", group=group, date=date, question=_rows(pair.question),
                   answers=_rows(pair.answers), link=day_path(group, date, pair.first.time.time()))


def setup_web(app: web.Application, settings: WebSection) -> None:
    """Add the archive pages and the JSON API to the bot's app (they read `app[SERVICES]`)."""
    app[THROTTLE] = LoginThrottle(settings.login_attempts, settings.login_window_seconds)
    app[TEMPLATES] = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True, trim_blocks=True, lstrip_blocks=True)
    # never a page from days erased by another process (the API: its own middleware)
    app.router.add_get("/archive", caught_up(index))
    app.router.add_get("/archive/", caught_up(index))
    app.router.add_get("/archive/search", caught_up(search_page))
    app.router.add_static("/archive/static", HERE / "static")
    app.router.add_get("/archive/qa/{id}", caught_up(qa_page))
    app.router.add_get("/archive/{group}", caught_up(group_page))
    app.router.add_get("/archive/{group}/{date}", caught_up(day_page))
    app.add_subapp("/api", create_api())
