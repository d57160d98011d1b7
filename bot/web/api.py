"""The JSON API beside the archive pages, under the same protection, and its OpenAPI document.

    GET /api/search  /api/ask  /api/days/{group}/{date}  /api/groups  /api/openapi.json

Handlers declare their parameters and responses with type annotations; aiohttp-pydantic
validates the parameters (a refused one answers 400 with the reason) and generates the OpenAPI
document from the same annotations, so the document cannot drift from the code. Every request,
the document included, passes `check_access` first: a request without credentials is refused
before its parameters are read.
"""

from __future__ import annotations

import asyncio
import functools
import json

from aiohttp import web
from aiohttp_pydantic.decorator import inject_params
from aiohttp_pydantic.oas import pydantic_schema_to_oas
from aiohttp_pydantic.oas.typing import r200, r400, r401, r403, r404, r429, r503
from aiohttp_pydantic.oas.view import generate_oas
from pydantic import ValidationError

from bot.erasure_watch import caught_up
from bot.links import qa_path
from bot.services import SERVICES, Services
from bot.store import queries
from bot.web import models
from bot.web.auth import check_access
from bot.web.days import load_day_view
from bot.web.search import SearchRequest, search

# pydantic's schemas are JSON Schema 2020-12, which OpenAPI 3.1 uses as is; the library writes
# 3.0 documents and rewrites nullable fields for 3.0 (failing on an optional model), so the
# document is declared 3.1 and its schemas are kept untouched.
OPENAPI = "3.1.0"
pydantic_schema_to_oas.add_or_replace_translater("3.0.0", pydantic_schema_to_oas.pydantic_schema_to_oas_3_1)
TITLE = "archive-bot archive API"
VERSION = "1"
SECURITY = {"basic": {"type": "http", "scheme": "basic"}}


async def refused(exception: ValidationError, context: str) -> web.Response:
    """400 naming each refused field and why (the value itself is not echoed)."""
    details = [{"in": context, "field": ".".join(str(p) for p in e["loc"]), "reason": e["msg"]}
               for e in exception.errors(include_url=False, include_input=False, include_context=False)]
    text = "; ".join(f"{d['field']}: {d['reason']}" for d in details)
    return web.json_response({"error": f"invalid {context}: {text}", "details": details}, status=400)


api_params = inject_params(on_validation_error=refused).and_request


def _problem(status: int, error: str, **headers: str) -> web.Response:
    return web.json_response({"error": error, "details": []}, status=status, headers=headers or None)


async def protected(request: web.Request, handler):
    """The archive's access rule for every API path, answered in JSON."""
    try:
        await check_access(request, request.config_dict[SERVICES].config.web)
    except web.HTTPException as refusal:
        kept = {name: refusal.headers[name] for name in ("WWW-Authenticate", "Retry-After") if name in refusal.headers}
        return _problem(refusal.status, refusal.text.strip() if refusal.text else refusal.reason, **kept)
    response = await handler(request)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _services(request: web.Request) -> Services:
    return request.config_dict[SERVICES]


@api_params
async def api_search(request: web.Request, q: models.Query, group: models.Name | None = None,
                     speaker: models.Name | None = None, since: models.ArchiveDate | None = None,
                     until: models.ArchiveDate | None = None, page: models.Page = 1, per_page: models.PerPage = 10,
                     ) -> (r200[models.SearchResponse] | r400[models.Problem] | r401[models.Problem]
                           | r403[models.Problem] | r429[models.Problem]):
    """Archived messages matching `q`, each with its exchange or conversation, best first.

    The same engine and ranking as the bot's /search; substantive lines before one-word remarks.
    Filters: group, speaker (part of the name), since/until (inclusive dates). Pages of per_page.

    Tags: archive
    Security: basic
    Status Codes:
        200: a page of results (possibly empty)
        400: a parameter was refused; `error` says which and why
        401: sign in with the archive's user name and password
        403: the archive is private and no password is configured
        429: too many failed sign-ins from this address; retry after Retry-After seconds
    """
    if since and until and since > until:
        return _problem(400, "invalid query string: since is after until")
    request_ = SearchRequest(q=q.strip() or q, group=group, speaker=speaker, date_from=since, date_to=until,
                             page=page, per_page=per_page)
    found = await search(_services(request), request_)
    body = found.to_json()
    body["since"], body["until"] = body.pop("from"), body.pop("to")
    return web.json_response(models.SearchResponse.model_validate(body).model_dump())


@api_params
async def api_ask(request: web.Request, q: models.Query, group: models.Name | None = None,
                  ) -> (r200[models.AskResponse] | r400[models.Problem] | r401[models.Problem]
                        | r429[models.Problem] | r503[models.Problem]):
    """Was this asked and answered before? The answer engine's verdict, as `archive-bot ask --json`,
    each exchange with the address of its page (`qa`).

    Tags: answers
    Security: basic
    Status Codes:
        200: the verdict, with the best candidates
        400: a parameter was refused
        401: sign in
        429: too many failed sign-ins from this address
        503: the answer index is still loading; retry shortly
    """
    engine = _services(request).answers
    if engine is None:
        return _problem(503, "the answer index is still loading", **{"Retry-After": "5"})
    result = await asyncio.to_thread(engine.ask, q, group)
    body = result.to_json()
    for entry, match in zip(body["candidates"], result.candidates):
        entry["qa"] = qa_path(match.pair)
    if result.match is not None:
        body["match"]["qa"] = qa_path(result.match.pair)
    return web.json_response(models.AskResponse.model_validate(body).model_dump())


@api_params
async def api_day(request: web.Request, group: models.Name, date: models.ArchiveDate, /,
                  ) -> (r200[models.DayResponse] | r400[models.Problem] | r401[models.Problem]
                        | r404[models.Problem] | r429[models.Problem]):
    """Every message of one archived day, with the anchors the day page uses.

    Tags: archive
    Security: basic
    Status Codes:
        200: the day
        400: the date is not a date between 1990 and 2100
        401: sign in
        404: nothing is archived for that group on that date
        429: too many failed sign-ins from this address
    """
    view = await load_day_view(_services(request), group, date)
    if view is None:
        return _problem(404, f"nothing archived for {group} on {date}")
    return web.json_response(models.DayResponse.model_validate(view.to_json()).model_dump())


@api_params
async def api_groups(request: web.Request) -> r200[models.GroupsResponse] | r401[models.Problem] | r429[models.Problem]:
    """Every archived group with its days, messages, speakers and date range (`stats --json`).

    Tags: archive
    Security: basic
    Status Codes:
        200: the groups
        401: sign in
        429: too many failed sign-ins from this address
    """
    stats = await asyncio.to_thread(queries.stats, _services(request).db)
    return web.json_response(models.GroupsResponse.model_validate({"groups": stats.to_json()["groups"]}).model_dump())


async def openapi(request: web.Request) -> web.Response:
    """The OpenAPI 3 document of this API, generated from the handlers above."""
    spec = generate_oas([request.app], VERSION, TITLE, SECURITY)
    spec["openapi"] = OPENAPI
    spec["security"] = [{"basic": []}]
    return web.Response(text=json.dumps(spec, ensure_ascii=False), content_type="application/json")


def guarded(handler):
    """An API handler behind the access rule and after the erasure catch-up. A wrapper on each
    route, not middlewares of the sub-application: with any middleware in it, aiohttp wraps every
    request of the whole app, webhooks included (2.4-2.8 us each)."""

    @functools.wraps(handler)
    async def checked(request: web.Request):
        return await protected(request, handler)

    return caught_up(checked)


ROUTES = (("/search", api_search), ("/ask", api_ask), ("/days/{group}/{date}", api_day),
          ("/groups", api_groups), ("/openapi.json", openapi))


def create_api() -> web.Application:
    """The API as a sub-application (mounted at /api by bot.web.setup_web)."""
    api = web.Application()
    for path, handler in ROUTES:  # every route guarded here, so none can be added unprotected beside them
        api.router.add_get(path, guarded(handler), allow_head=False)
    return api
