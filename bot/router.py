"""A transport-free router: handler modules declare their commands, observers and jobs here.

Each module in `handlers/` creates `router = Router("name")` and decorates its functions:

    router = Router("search", order=20)

    @router.command("search", "搜索")
    async def search(ctx: Context) -> None:
        '''关键词 — top archived messages for the words'''
        await ctx.reply(...)

    @router.job("digest", at="digest_time")      # daily at [schedule] digest_time
    async def digest_job(ctx: Context) -> None:
        ...

The first docstring line is the command's help text (errbot-style). Handlers receive a
`bot.context.Context` and never see platform JSON nor call a platform API.

`load_handlers(config)` imports the modules named by `bot.handlers` in the config (a package
name stands for each of its modules, sorted by their router's `order`) and combines their
routers: the core never names a handler module.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.config import Config
    from bot.context import Context

Handler = Callable[["Context"], Awaitable[Any]]
DEFAULT_ORDER = 100  # routers without an explicit order come after the ordered ones


def first_line(doc: str | None) -> str:
    """The one-line help text: the docstring's first non-empty line."""
    for line in (doc or "").splitlines():
        if line.strip():
            return line.strip()
    return ""


@dataclass(frozen=True, slots=True)
class Route:
    """One registered handler; `names` is empty for fallbacks, join and observer routes."""

    kind: str  # "command" | "fallback" | "join" | "observe" | "member_update" | "reaction"
    handler: Handler
    names: tuple[str, ...] = ()
    help: str = ""
    hidden: bool = False  # admin commands may keep out of /help

    @property
    def label(self) -> str:
        return getattr(self.handler, "__qualname__", repr(self.handler))


@dataclass(frozen=True, slots=True)
class Job:
    """A job a handler module declares; the scheduler turns it into a trigger (bot/scheduler.py).

    `at` names the `[schedule]` key holding its "HH:MM" (an empty value there switches the job
    off); `day` names the key holding the day of the month (monthly jobs), `weekday` the key
    holding the day of the week ("mon".."sun", weekly jobs); `every` is an interval
    in seconds instead. `web_only` jobs run only in a web process that leaves the posting jobs to
    a separate `archive-bot clock`.
    """

    id: str
    handler: Handler
    at: str = ""
    day: str = ""
    every: float = 0.0
    web_only: bool = False
    weekday: str = ""


class Router:
    """Routes and jobs of one handler module; routers combine with `include`.

    `order` places the module among the others found in one package (lower first): it decides
    the order of /help and of observers; the fallback answerer sets a high one to run last.
    """

    def __init__(self, name: str = "", order: int = DEFAULT_ORDER) -> None:
        self.name = name
        self.order = order
        self.routes: list[Route] = []
        self.jobs: list[Job] = []
        self._kinds: dict[str, tuple[int, list[Route]]] = {}  # of_kind's answers by route count

    # -- registration -------------------------------------------------------------------------
    def command(self, *names: str, hidden: bool = False) -> Callable[[Handler], Handler]:
        """Register a command under one or more names (`/search`, `/搜索`); case-insensitive."""
        if not names:
            raise ValueError("a command needs at least one name")
        clean = tuple(name.lstrip("/").lower() for name in names)

        def register(handler: Handler) -> Handler:
            self._add(Route("command", handler, clean, first_line(handler.__doc__), hidden))
            return handler

        return register

    def fallback(self) -> Callable[[Handler], Handler]:
        """Plain text that is not a command (the fuzzy auto-answerer). All fallbacks run, in order."""
        return self._simple("fallback")

    def on_join(self) -> Callable[[Handler], Handler]:
        """Messages carrying members who joined (`Incoming.joined`)."""
        return self._simple("join")

    def observe(self) -> Callable[[Handler], Handler]:
        """Every message from a person, before routing (e.g. checking display names)."""
        return self._simple("observe")

    def on_member_update(self) -> Callable[[Handler], Handler]:
        """A member's display name changed without a message (`ctx.update`, a `MemberUpdate`)."""
        return self._simple("member_update")

    def on_reaction(self) -> Callable[[Handler], Handler]:
        """A member reacted to a message (`ctx.reaction`, a `Reaction`): feedback on answers."""
        return self._simple("reaction")

    def job(self, job_id: str, *, at: str = "", day: str = "", every: float = 0.0,
            web_only: bool = False, weekday: str = "") -> Callable[[Handler], Handler]:
        """Register a scheduled job (see `Job`); it gets a `Context` without a message."""
        if bool(at) == bool(every):
            raise ValueError(f"job {job_id}: give either `at` (a [schedule] key) or `every` (seconds)")

        def register(handler: Handler) -> Handler:
            self._add_job(Job(job_id, handler, at, day, every, web_only, weekday))
            return handler

        return register

    def include(self, other: Router) -> Router:
        for route in other.routes:
            self._add(route)
        for job in other.jobs:
            self._add_job(job)
        return self

    # -- lookup ---------------------------------------------------------------------------------
    def find_command(self, name: str) -> Route | None:
        name = name.lstrip("/").lower()
        for route in self.routes:
            if route.kind == "command" and name in route.names:
                return route
        return None

    def of_kind(self, kind: str) -> list[Route]:
        """The routes of one kind, in order; kept per kind (every message asks twice) until a
        route is added."""
        kept = self._kinds.get(kind)
        if kept is None or kept[0] != len(self.routes):
            kept = self._kinds[kind] = (len(self.routes), [route for route in self.routes if route.kind == kind])
        return kept[1]

    def find_job(self, job_id: str) -> Job | None:
        return next((job for job in self.jobs if job.id == job_id), None)

    def commands(self) -> list[Route]:
        """Visible commands in registration order (for /help)."""
        return [route for route in self.of_kind("command") if not route.hidden]

    # -- internals ------------------------------------------------------------------------------
    def _simple(self, kind: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self._add(Route(kind, handler, (), first_line(handler.__doc__)))
            return handler

        return register

    def _add(self, route: Route) -> None:
        if route.kind == "command":
            for name in route.names:
                existing = self.find_command(name)
                if existing is not None and existing.handler is not route.handler:
                    raise ValueError(f"command /{name} registered twice ({existing.label}, {route.label})")
        if route not in self.routes:
            self.routes.append(route)

    def _add_job(self, job: Job) -> None:
        existing = self.find_job(job.id)
        if existing is not None and existing.handler is not job.handler:
            raise ValueError(f"job {job.id} registered twice ({existing.handler}, {job.handler})")
        if existing is None:
            self.jobs.append(job)


def combine(routers: Iterable[Router]) -> Router:
    """One router holding every route and job of `routers`, in order."""
    root = Router("root")
    for router in routers:
        root.include(router)
    return root


def module_routers(name: str) -> list[Router]:
    """The router of module `name`, or of each module of package `name` (by `order`, then name).

    Modules without a `router` (shared helpers) are skipped inside a package; a module named on
    its own must have one."""
    module = importlib.import_module(name)
    if not hasattr(module, "__path__"):
        router = getattr(module, "router", None)
        if not isinstance(router, Router):
            raise ValueError(f"handler module {name} has no `router = Router(...)`")
        return [router]
    found = []
    for info in pkgutil.iter_modules(module.__path__):
        router = getattr(importlib.import_module(f"{name}.{info.name}"), "router", None)
        if isinstance(router, Router):
            found.append((router.order, info.name, router))
    return [router for _, _, router in sorted(found, key=lambda item: item[:2])]


def load_routers(modules: Iterable[str]) -> Router:
    """Import the named handler modules (or packages of them) and combine their routers, in order."""
    return combine(router for name in modules for router in module_routers(name))


def load_handlers(config: Config) -> Router:
    """Every route and job of the handler modules the config names (`bot.handlers`)."""
    return load_routers(config.bot.handlers)
