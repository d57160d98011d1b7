"""`POST /webhook/{platform}`: verify → parse → store → acknowledge → dispatch.

The handler is a thin translation from aiohttp to the neutral `bot.platforms.base.Request`:
verification runs on the raw bytes before any parsing, every message and member update (rename)
of a configured chat is committed to the store before the answer goes out, and only new messages
(not platform retries) are dispatched, in a tracked background task (or inline, for tests); renames
are dispatched to the member-update routes every time (they are idempotent). Bad input is a 4xx,
never a 500; logs carry platform, chat and message ids, never bodies or secrets.
"""

from __future__ import annotations

import logging

from aiohttp import hdrs, web

from bot import metrics
from bot.dispatch import Dispatcher
from bot.inbox import Inbox, Item, MemberItem
from bot.platforms.base import Rejected, Request
from bot.platforms.bounds import bounded
from bot.services import SERVICES

log = logging.getLogger(__name__)

DISPATCHER = web.AppKey("dispatcher", Dispatcher)
INBOX = web.AppKey("inbox", Inbox)
INLINE_DISPATCH = web.AppKey("inline_dispatch", bool)


def _reject(status: int, reason: str) -> web.Response:
    return web.json_response({"ok": False, "error": reason}, status=status)


def webhook_handler(platform: str | None = None):
    """The handler of `/webhook/<platform>`; with no platform, of `/webhook/{platform}` (any name:
    an unknown one is a 404). Every registered platform gets a plain route of its own, which
    aiohttp matches by the path alone, without the pattern's regular expression."""

    async def handle_webhook(request: web.Request) -> web.StreamResponse:
        name = platform or request.match_info["platform"]
        response = await _handle(request, name)
        known = name if name in request.app[SERVICES].adapters else "unknown"  # bounded label values
        metrics.REQUESTS.inc(known, str(response.status))
        return response

    return handle_webhook


async def _handle(request: web.Request, platform: str) -> web.StreamResponse:
    app = request.app
    services = app[SERVICES]
    adapter = services.adapters.get(platform)
    if adapter is None:
        return _reject(404, "unknown platform")
    if request.method not in adapter.methods:
        return _reject(405, f"{' or '.join(adapter.methods)} only")
    if request.method == "POST":
        allowed = adapter.content_types
        exact = request.headers.get(hdrs.CONTENT_TYPE) in allowed  # the usual header: no parsing
        if not exact and request.can_read_body and request.content_type not in allowed:
            return _reject(415, f"content type must be one of {', '.join(allowed)}")
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return _reject(413, "body too large")
    neutral = Request(method=request.method, path=request.path, query=request.query,
                      headers=request.headers, body=body)
    try:
        adapter.verify(neutral)
    except Rejected as exc:
        log.info("%s webhook refused: %s %s", platform, exc.status, exc.reason)
        return _reject(exc.status, exc.reason)
    try:
        parsed = bounded(adapter.parse(neutral))  # every field typed and bounded, or a 400
    except Rejected as exc:
        log.info("%s webhook bad request: %s %s", platform, exc.status, exc.reason)
        return _reject(exc.status, exc.reason)
    except Exception as exc:  # noqa: BLE001 - a body the adapter did not expect is the sender's fault
        log.info("%s webhook unparseable body: %s", platform, type(exc).__name__)
        return _reject(400, "unparseable body")

    dispatcher = app[DISPATCHER]
    items = []
    for message in parsed.messages:
        chat = dispatcher.chat_for(message.platform, message.chat_id)
        if chat is None:
            log.debug("%s chat %s not configured; message %s ignored", platform, message.chat_id,
                      message.message_id)
            continue
        items.append(Item(message, chat.group))
    renames = []
    for update in parsed.member_updates:
        chat = dispatcher.chat_for(update.platform, update.chat_id)
        if chat is not None:
            renames.append(MemberItem(update, chat.group))
    if items or renames:
        try:
            new = await app[INBOX].store([*items, *renames])  # committed before we acknowledge
        except Exception as exc:  # noqa: BLE001 - not stored = not acknowledged: the platform retries
            log.error("%s webhook: storing failed (%s); answering 503", platform, type(exc).__name__)
            return _reject(503, "storage unavailable, retry later")
        for item, is_new in zip(items, new):
            if not is_new:
                continue
            metrics.STORED.inc(platform)
            if app[INLINE_DISPATCH]:
                await dispatcher.handle(item.message)
            else:
                dispatcher.spawn(item.message)
        for rename in renames:  # idempotent, so a platform's retry may run it again
            if app[INLINE_DISPATCH]:
                await dispatcher.dispatch_update(rename.update)
            else:
                dispatcher.spawn(rename.update)
    for reaction in parsed.reactions:  # stored by their routes, once per member: a retry changes nothing
        if dispatcher.chat_for(reaction.platform, reaction.chat_id) is None:
            continue
        if app[INLINE_DISPATCH]:
            await dispatcher.dispatch_reaction(reaction)
        else:
            dispatcher.spawn(reaction)
    return web.Response(status=parsed.status, body=parsed.response_body,
                        headers={"Content-Type": parsed.response_type})
