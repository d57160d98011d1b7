"""HTTP Basic protection for the archive pages: the logs hold real people's names and words.

Closed by default: with no password configured and `web.public` false, every page answers 403.
Failed sign-ins are throttled per client address: after `web.login_attempts` failures within
`web.login_window_seconds`, that address gets 429 (with Retry-After) until the window has passed,
so a password cannot be guessed at thousands of tries a second. The address is the TCP peer's
(a proxy in front should pass one address per client, or throttle itself).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import time
from collections import OrderedDict, deque

from aiohttp import web

from bot.config import WebSection

REALM = 'Basic realm="archive-bot", charset="UTF-8"'


class LoginThrottle:
    """Failed sign-ins per client address in a sliding window; the oldest addresses are forgotten."""

    def __init__(self, attempts: int, window: float, clock=time.monotonic, max_addresses: int = 10_000) -> None:
        self.attempts, self.window, self.clock, self.max_addresses = attempts, window, clock, max_addresses
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, address: str, now: float) -> deque[float]:
        failures = self._failures.get(address)
        if failures is None:
            return deque()
        while failures and now - failures[0] >= self.window:
            failures.popleft()
        return failures

    def retry_after(self, address: str) -> float:
        """Seconds this address must wait before it may try again (0 = it may try now)."""
        now = self.clock()
        failures = self._recent(address, now)
        if len(failures) < self.attempts:
            return 0.0
        return max(0.0, self.window - (now - failures[-self.attempts]))

    def failed(self, address: str) -> None:
        now = self.clock()
        failures = self._recent(address, now)
        failures.append(now)
        self._failures[address] = failures
        self._failures.move_to_end(address)
        while len(self._failures) > self.max_addresses:
            self._failures.popitem(last=False)

    def succeeded(self, address: str) -> None:
        self._failures.pop(address, None)


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


def check_access(request: web.Request, settings: WebSection) -> None:
    """Raise 401/403 unless the request may read the archive."""
    if settings.public:
        return
    if not settings.password:
        raise web.HTTPForbidden(text="The web archive is private: set web.password (or web.public = true).\n")
    given = _credentials(request)
    if given is None:
        raise web.HTTPUnauthorized(headers={"WWW-Authenticate": REALM}, text="Sign in to read the archive.\n")
    throttle = request.config_dict.get(THROTTLE)  # the API sub-application shares the pages' throttle
    address = request.remote or "?"
    if throttle is not None:
        wait = throttle.retry_after(address)
        if wait > 0:
            raise web.HTTPTooManyRequests(headers={"Retry-After": str(int(wait) + 1)},
                                          text="Too many failed sign-ins; try again later.\n")
    user_ok = hmac.compare_digest(given[0].encode(), settings.username.encode())
    password_ok = hmac.compare_digest(given[1].encode(), settings.password.encode())
    if not (user_ok and password_ok):
        if throttle is not None:
            throttle.failed(address)
        raise web.HTTPUnauthorized(headers={"WWW-Authenticate": REALM}, text="Wrong user name or password.\n")
    if throttle is not None:
        throttle.succeeded(address)
