"""The archive pages: every group, every day of a group, one day, and a search page.

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

from bot.archive.reader import MENTION
from bot.config import WebSection
from bot.links import day_path
from bot.services import SERVICES, Services
from bot.store import queries
from bot.web.auth import THROTTLE, LoginThrottle, check_access
from bot.web.safety import safe_link

HERE = Path(__file__).parent
TEMPLATES = web.AppKey("archive_templates", jinja2.Environment)
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _message_html(text: str) -> Markup:
    """Escape the text and mark @mentions; newlines stay (CSS pre-wrap)."""
    out, last = [], 0
    for match in MENTION.finditer(text):
        out.append(escape(text[last:match.start()]))
        out.append(Markup('<span class="mention">{}</span>').format(match.group(0)))
        last = match.end()
    out.append(escape(text[last:]))
    return Markup("").join(out)


def _rows(day) -> list[dict]:
    rows, seen = [], set()
    for message in day.messages:
        anchor = f"t-{message.time:%H%M%S}"
        rows.append(dict(
            time=f"{message.time:%H:%M:%S}", speaker=message.speaker, kind=message.kind.value,
            image_url=message.image_url, image_link=safe_link(message.image_url),
            html=_message_html(message.text),
            anchor=None if anchor in seen else anchor, anchor_of_second=anchor,
        ))
        seen.add(anchor)
    return rows


def _render(request: web.Request, template: str, **context) -> web.Response:
    services: Services = request.app[SERVICES]
    check_access(request, services.config.web)
    page = request.app[TEMPLATES].get_template(template).render(bot_name=services.config.bot.name, **context)
    return web.Response(text=page, content_type="text/html", headers={"Cache-Control": "private, no-store"})


async def index(request: web.Request) -> web.Response:
    check_access(request, request.app[SERVICES].config.web)
    stats = await asyncio.to_thread(queries.stats, request.app[SERVICES].db)
    return _render(request, "index.html", groups=stats.groups)


async def group_page(request: web.Request) -> web.Response:
    check_access(request, request.app[SERVICES].config.web)
    group = request.match_info["group"]
    day_list = await asyncio.to_thread(queries.list_days, request.app[SERVICES].db, group)
    if not day_list:
        raise web.HTTPNotFound(text=f"No archived days for group {group!r}.\n")
    return _render(request, "group.html", group=group, days=list(reversed(day_list)))


async def day_page(request: web.Request) -> web.Response:
    services: Services = request.app[SERVICES]
    check_access(request, services.config.web)
    group, date_text = request.match_info["group"], request.match_info["date"]
    if not DATE.match(date_text):
        raise web.HTTPBadRequest(text="Dates look like 2018-02-28.\n")
    try:
        date = dt.date.fromisoformat(date_text)
    except ValueError:
        raise web.HTTPBadRequest(text=f"{date_text} is not a date.\n") from None
    day = await asyncio.to_thread(queries.load_day, services.db, group, date, services.zone)
    if day is None:
        raise web.HTTPNotFound(text=f"Nothing archived for {group} on {date_text}.\n")
    dates = [info.date for info in await asyncio.to_thread(queries.list_days, services.db, group)]
    position = dates.index(date) if date in dates else -1
    return _render(
        request, "day.html", group=group, day=day, rows=_rows(day),
        speakers=len({m.speaker for m in day.messages}),
        prev_date=dates[position - 1] if position > 0 else None,
        next_date=dates[position + 1] if 0 <= position < len(dates) - 1 else None,
    )


async def search_page(request: web.Request) -> web.Response:
    services: Services = request.app[SERVICES]
    check_access(request, services.config.web)
    query = request.query.get("q", "").strip()[:200]
    group = request.query.get("group") or None
    engine = services.answers
    hits = []
    if query and engine is not None:
        for hit in await asyncio.to_thread(engine.search, query, group=group, limit=30):
            message = hit.message
            hits.append(dict(group=hit.group, date=hit.date, time=f"{message.time:%H:%M:%S}", speaker=message.speaker,
                             text=message.text, link=day_path(hit.group, hit.date, message.time.time())))
    return _render(request, "search.html", query=query, group=group, hits=hits, ready=engine is not None)


def setup_web(app: web.Application, settings: WebSection) -> None:
    """Add the archive pages to the bot's app (they read `app[SERVICES]`)."""
    app[THROTTLE] = LoginThrottle(settings.login_attempts, settings.login_window_seconds)
    app[TEMPLATES] = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True, trim_blocks=True, lstrip_blocks=True)
    app.router.add_get("/archive", index)
    app.router.add_get("/archive/", index)
    app.router.add_get("/archive/search", search_page)
    app.router.add_static("/archive/static", HERE / "static")
    app.router.add_get("/archive/{group}", group_page)
    app.router.add_get("/archive/{group}/{date}", day_page)
