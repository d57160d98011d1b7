"""HTTP Basic protection for the archive pages: the logs hold real people's names and words.

Closed by default: with no password configured and `web.public` false, every page answers 403.
Failed sign-ins are throttled per client address: after `web.login_attempts` failures within
`web.login_window_seconds`, that address gets 429 (with Retry-After) until the window has passed,
so a password cannot be guessed at thousands of tries a second. The failures are counted in the
store (bot/store/sign_ins.py), so several web processes behind one address throttle together and
a restart keeps the count. The address is the TCP peer's (a proxy in front should pass one
address per client, or throttle itself).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hmac
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from aiohttp import web
from sqlalchemy import Engine

from bot.config import WebSection
from bot.services import SERVICES
from bot.store import sign_ins

REALM = 'Basic realm="archive-bot", charset="UTF-8"'


@dataclass
class _Turn:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    waiting: int = 0


class LoginThrottle:
    """The sign-in policy: `attempts` failures of one address within a sliding `window` (seconds),
    then that address waits until the oldest of them leaves the window. The record is the store's."""

    def __init__(self, attempts: int, window: float, clock=time.time) -> None:
        self.attempts, self.window, self.clock = attempts, window, clock  # wall clock: processes share it
        self._turns: dict[str, _Turn] = {}  # addresses signing in now (forgotten when none is)

    @contextlib.asynccontextmanager
    async def turn(self, address: str) -> AsyncIterator[None]:
        """One sign-in of an address at a time in this process, from the look at its failures to the
        record of its own: guesses sent in parallel each see the failures before them. (Processes do
        not wait for each other: as the limit is reached, each other process may let one more by.)"""
        turn = self._turns.setdefault(address, _Turn())
        turn.waiting += 1
        try:
            async with turn.lock:
                yield
        finally:
            turn.waiting -= 1
            if not turn.waiting:
                del self._turns[address]

    def standing(self, db: Engine, address: str) -> tuple[float, bool]:
        """Seconds this address must wait before it may try again (0 = it may try now), and whether
        it has failures within the window (one indexed query)."""
        now = self.clock()
        failures = sign_ins.recent_failures(db, address, int((now - self.window) * 1000), self.attempts)
        if len(failures) < self.attempts:
            return 0.0, bool(failures)
        return max(0.0, self.window - (now - failures[-1] / 1000)), True

    def failed(self, db: Engine, address: str) -> None:
        now = self.clock()
        sign_ins.record_failure(db, address, int(now * 1000), int((now - self.window) * 1000))

    def succeeded(self, db: Engine, address: str) -> None:
        sign_ins.forget(db, address)


THROTTLE = web.AppKey("login_throttle", LoginThrottle)


def _credentials(request: web.Request) -> tuple[str, str] | None:
    header = request.headers.get("Authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        user, sep, password = base64.b64decode(encoded, validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (user, password) if sep else None


def _given(request: web.Request, settings: WebSection) -> tuple[str, str] | None:
    """The credentials a private archive needs (None when it is public); 403 when no password is
    configured, 401 when none are given."""
    if settings.public:
        return None
    if not settings.password:
        raise web.HTTPForbidden(text="The web archive is private: set web.password (or web.public = true).\n")
    given = _credentials(request)
    if given is None:
        raise web.HTTPUnauthorized(headers={"WWW-Authenticate": REALM}, text="Sign in to read the archive.\n")
    return given


def _matches(given: tuple[str, str], settings: WebSection) -> bool:
    user_ok = hmac.compare_digest(given[0].encode(), settings.username.encode())
    password_ok = hmac.compare_digest(given[1].encode(), settings.password.encode())
    return user_ok and password_ok


def _wrong() -> web.HTTPUnauthorized:
    return web.HTTPUnauthorized(headers={"WWW-Authenticate": REALM}, text="Wrong user name or password.\n")


async def check_access(request: web.Request, settings: WebSection) -> None:
    """Raise 401/403 (429 while the address is throttled) unless the request may read the archive."""
    given = _given(request, settings)
    if given is None:
        return
    throttle = request.config_dict.get(THROTTLE)  # the API sub-application shares the pages' throttle
    services = request.config_dict.get(SERVICES)
    db = services.db if throttle is not None and services is not None else None
    address = request.remote or "?"
    if db is None:  # no throttle: the archive pages are off and only /metrics asks for the password
        if not _matches(given, settings):
            raise _wrong()
        return
    async with throttle.turn(address):
        wait, failed_before = await asyncio.to_thread(throttle.standing, db, address)
        if wait > 0:
            raise web.HTTPTooManyRequests(headers={"Retry-After": str(int(wait) + 1)},
                                          text="Too many failed sign-ins; try again later.\n")
        if not _matches(given, settings):
            await asyncio.to_thread(throttle.failed, db, address)
            raise _wrong()
        if failed_before:  # a success forgets the address's failures (no write when it had none)
            await asyncio.to_thread(throttle.succeeded, db, address)


def require_password(request: web.Request, settings: WebSection) -> None:
    """The access rule without the throttle, and without the store: what a page checks again as it
    renders, after its handler passed `check_access`."""
    given = _given(request, settings)
    if given is not None and not _matches(given, settings):
        raise _wrong()
