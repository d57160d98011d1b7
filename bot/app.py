"""The aiohttp application factory: resources in cleanup_ctx, the webhook route, health checks.

    create_app(config) -> web.Application

Start-up (cleanup_ctx, in order): the store and its group-commit inbox; the outbound HTTP session;
the Services object with the platform adapters and the dispatcher; a background task that ingests
the archive and builds the answer index (`/healthz` reports ready once it is loaded); the
scheduler (all jobs when `server.run_scheduler` is set; otherwise only the refresh that picks up
the days a separate clock published). Shut-down runs in reverse: the scheduler stops,
in-flight dispatches (and their outbound sends) get `server.shutdown_timeout` seconds, then the
HTTP session and the store close.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
from aiohttp import web

from bot import metrics
from bot.config import Config
from bot.dispatch import Dispatcher
from bot.inbox import Inbox
from bot.platforms import adapter_classes
from bot.scheduler import scheduler_context
from bot.services import SERVICES, Services
from bot.web import setup_web
from bot.web.safety import add_security_headers
from bot.webhook import DISPATCHER, INBOX, INLINE_DISPATCH, webhook_handler

log = logging.getLogger(__name__)

READY = web.AppKey("ready", asyncio.Event)
LOADER = web.AppKey("loader", dict)  # {"task": asyncio.Task | None, "error": str | None}
CLOCK = web.AppKey("clock", object)
CONFIG = web.AppKey("config", Config)
ADAPTER_OPTIONS = web.AppKey("adapter_options", dict)


def create_app(config: Config, *, clock: Callable[[], dt.datetime] | None = None,
               inline_dispatch: bool = False, load_answers: bool = True,
               adapter_options: dict[str, Any] | None = None) -> web.Application:
    """The bot's web application.

    `clock` is the Services clock; `inline_dispatch` runs handlers before the ack (tests);
    `load_answers=False` skips the archive ingest and index (readiness is immediate);
    `adapter_options` are passed to every adapter's constructor (tests give a fake clock/sleep).
    """
    app = web.Application(client_max_size=config.server.max_body_bytes)
    app[CONFIG] = config
    app[ADAPTER_OPTIONS] = dict(adapter_options or {})
    app[CLOCK] = clock
    app[INLINE_DISPATCH] = inline_dispatch
    app[READY] = asyncio.Event()
    app[LOADER] = {"task": None, "error": None, "enabled": load_answers}
    app.cleanup_ctx.append(_store_ctx)
    app.cleanup_ctx.append(_http_ctx)
    app.cleanup_ctx.append(_services_ctx)
    app.cleanup_ctx.append(_answers_ctx)
    app.cleanup_ctx.append(scheduler_context)  # the jobs; only the answer refresh without run_scheduler
    add_security_headers(app)  # a strict Content-Security-Policy on every response
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_page)
    for name in [*adapter_classes(), None]:  # each platform's own path, then any other name (a 404)
        path = f"/webhook/{name}" if name else "/webhook/{platform}"
        app.router.add_post(path, webhook_handler(name))
        app.router.add_get(path, webhook_handler(name))  # WeCom URL verification
    if config.web.enabled:
        setup_web(app, config.web)
    return app


# -- resources --------------------------------------------------------------------------------
_DB = web.AppKey("db", object)
_HTTP = web.AppKey("http", aiohttp.ClientSession)


async def _store_ctx(app: web.Application) -> AsyncIterator[None]:
    from zoneinfo import ZoneInfo

    from bot.store import connect
    from bot.store.shared import run_owner

    config = app[CONFIG]
    db = await asyncio.to_thread(connect, config.store.url)
    inbox = Inbox(db, ZoneInfo(config.bot.timezone), owner=run_owner(config.server.instance or "local"))
    inbox.start()
    app[_DB] = db
    app[INBOX] = inbox
    try:
        yield
    finally:
        await inbox.close()
        db.dispose()


async def _http_ctx(app: web.Application) -> AsyncIterator[None]:
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
    app[_HTTP] = session
    try:
        yield
    finally:
        await session.close()


async def _services_ctx(app: web.Application) -> AsyncIterator[None]:
    config = app[CONFIG]
    services = Services(config=config, db=app[_DB], http=app[_HTTP], clock=app[CLOCK])
    services.adapters.update(build_adapters(config, app[_HTTP], **app[ADAPTER_OPTIONS]))
    app[SERVICES] = services
    app[DISPATCHER] = services.dispatcher = Dispatcher(services)
    app[DISPATCHER].on_handled = app[INBOX].finished
    log.info("platforms: %s", ", ".join(sorted(services.adapters)) or "none configured")
    try:
        yield
    finally:
        await app[DISPATCHER].drain(config.server.shutdown_timeout)
        app[DISPATCHER].close()
        for adapter in services.adapters.values():
            close = getattr(adapter, "close", None)
            if close is not None:
                await close()


def build_adapters(config: Config, http: aiohttp.ClientSession, **options: Any) -> dict:
    """One adapter per registered platform (bot/platforms/__init__.py) that a chat names or whose
    `enabled_by` key is set: `Adapter(config.platforms.<name>, http, **options)`."""
    wanted = {chat.platform for chat in config.chats}
    adapters = {}
    for name, cls in adapter_classes().items():
        section = getattr(config.platforms, name)
        if name in wanted or getattr(section, cls.enabled_by):
            adapters[name] = cls(section, http, **options)
    return adapters


# -- the answer index, loaded in the background -------------------------------------------------
async def _answers_ctx(app: web.Application) -> AsyncIterator[None]:
    state = app[LOADER]
    loop = asyncio.get_running_loop()
    if state["enabled"]:
        state["task"] = loop.create_task(_load_answers(app))
    else:
        app[READY].set()
    resume = loop.create_task(_resume_pending(app))
    services = app[SERVICES]
    watch = loop.create_task(services.erasures.poll(services))  # erasures made by other processes
    try:
        yield
    finally:
        for task in (state["task"], resume, watch):
            if task is not None and not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)


async def _resume_pending(app: web.Application) -> None:
    """Once the index is loaded, handle the messages a crashed run acknowledged but never handled."""
    from bot.store.shared import claim_pending

    task = app[LOADER]["task"]
    if task is not None:
        await asyncio.gather(asyncio.shield(task), return_exceptions=True)
    services, server = app[SERVICES], app[CONFIG].server
    messages = await asyncio.to_thread(claim_pending, services.db, app[INBOX].owner, int(time.time()),
                                       server.pending_lease_seconds)
    app[DISPATCHER].resume(messages)


def ingest_archive(db, config: Config) -> None:
    """Bring the store up to date with the archive folders (unchanged days are skipped)."""
    from bot.store import ingest

    paths = [path for path in config.archive.paths if path.exists()]
    missing = [str(path) for path in config.archive.paths if not path.exists()]
    if missing:
        log.warning("archive paths not found: %s", ", ".join(missing))
    if paths:
        from bot.archive.reader import ReadOptions

        options = ReadOptions.of(config)
        report = ingest.ingest_paths(db, paths, options)
        log.info("archive ingest: %d file(s), %d message(s) written, %d error(s) in %.1fs",
                 len(report.files), report.messages, len(report.errors), report.seconds)


def build_answer_engine(db, config: Config):
    """The answer engine over the stored archive, with the configured sentence encoder.

    Words and vectors are kept in the store, so only the first start segments and encodes.
    """
    from bot.qa.encoder import build_encoder
    from bot import legacy_units
    from bot.qa.engine import AnswerEngine
    from bot.store import ranker_models

    engine = AnswerEngine.from_store(db, config.answer, zone=config.bot.timezone, encoder=build_encoder(config.encoder))
    engine.ranker = ranker_models.adopted(db, engine.ranker_kind) or engine.ranker  # a refit adopted earlier
    legacy_units.migrate(db, engine)  # feedback and pins stored by earlier versions name units by their ids
    return engine


async def _load_answers(app: web.Application) -> None:
    services = app[SERVICES]
    try:
        await asyncio.to_thread(ingest_archive, services.db, services.config)
        await asyncio.to_thread(services.erasures.before_loading, services.db)
        services.answers = await asyncio.to_thread(build_answer_engine, services.db, services.config)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # noqa: BLE001 - stay up (searching live text still works); report it
        app[LOADER]["error"] = type(exc).__name__
        log.exception("loading the archive / answer index failed")
        return
    app[READY].set()
    log.info("answer index ready")
    try:  # the search index, otherwise built at the first search (which would wait for it)
        await asyncio.to_thread(services.answers.warm)
    except Exception:  # noqa: BLE001 - search builds it again when first used
        log.exception("building the search index failed")
    await asyncio.to_thread(freeze_heap)


def freeze_heap() -> None:
    """Move what is alive now (the archive and its indexes, millions of objects kept for the
    process's life) out of the garbage collector's sight: every full collection walked them all,
    a pause of 100-300 ms in the middle of webhook requests on the whole shared archive. They are
    still freed by reference counting when an index is replaced.

    Then collect the young generation after 10,000 net allocations instead of 700: a webhook
    request's objects are freed by reference counting, and at 700 a busy webhook ran a collection
    every hundred requests or so (about 2% of its CPU) for cycles that were not there."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


async def wait_ready(app: web.Application, timeout: float = 60) -> None:
    """For tests and the benchmark: wait until the index is loaded (raises if loading failed)."""
    task = app[LOADER]["task"]
    await asyncio.wait_for(app[READY].wait() if task is None else asyncio.shield(task), timeout)
    if not app[READY].is_set():
        raise RuntimeError(f"answer index failed to load: {app[LOADER]['error']}")


async def metrics_page(request: web.Request) -> web.Response:
    """Prometheus text format; behind the archive's sign-in when `web.protect_metrics` is set."""
    from bot.web.auth import check_access

    settings = request.app[CONFIG].web
    if settings.protect_metrics:
        await check_access(request, settings)
    services = request.app.get(SERVICES)
    return metrics.metrics_response(services.answers if services is not None else None)


async def healthz(request: web.Request) -> web.Response:
    """200 {"status":"ok","ready":...}; with ?ready=1, 503 until the answer index is loaded."""
    app = request.app
    ready = app[READY].is_set()
    body = {"status": "ok", "ready": ready}
    if app[LOADER]["error"]:
        body["error"] = f"index failed to load ({app[LOADER]['error']})"
    want_ready = request.query.get("ready", "") not in ("", "0", "false")
    status = 503 if want_ready and not ready else 200
    return web.json_response(body, status=status)
