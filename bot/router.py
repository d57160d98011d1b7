"""A transport-free router: handler modules register commands and fallbacks with decorators.

Each module in `handlers/` creates `router = Router()` and decorates its functions:

    router = Router()

    @router.command("search", "搜索")
    async def search(ctx: Context) -> None:
        '''/search 关键词 — top archived messages for the words'''
        await ctx.reply(...)

The first docstring line is the command's help text (errbot-style). Handlers receive a
`bot.dispatch.Context` and never see platform JSON nor call a platform API.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.dispatch import Context

Handler = Callable[["Context"], Awaitable[Any]]


def first_line(doc: str | None) -> str:
    """The one-line help text: the docstring's first non-empty line."""
    for line in (doc or "").splitlines():
        if line.strip():
            return line.strip()
    return ""


@dataclass(frozen=True, slots=True)
class Route:
    """One registered handler; `names` is empty for fallbacks, join and observer routes."""

    kind: str  # "command" | "fallback" | "join" | "observe" | "member_update"
    handler: Handler
    names: tuple[str, ...] = ()
    help: str = ""
    hidden: bool = False  # admin commands may keep out of /help

    @property
    def label(self) -> str:
        return getattr(self.handler, "__qualname__", repr(self.handler))


class Router:
    """Routes of one handler module; routers combine with `include`."""

    def __init__(self, name: str = "") -> None:
        self.name = name
        self.routes: list[Route] = []

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

    def include(self, other: Router) -> Router:
        for route in other.routes:
            self._add(route)
        return self

    # -- lookup ---------------------------------------------------------------------------------
    def find_command(self, name: str) -> Route | None:
        name = name.lstrip("/").lower()
        for route in self.routes:
            if route.kind == "command" and name in route.names:
                return route
        return None

    def of_kind(self, kind: str) -> list[Route]:
        return [route for route in self.routes if route.kind == kind]

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


def combine(routers: Iterable[Router]) -> Router:
    """One router holding every route of `routers`, in order."""
    root = Router("root")
    for router in routers:
        root.include(router)
    return root
