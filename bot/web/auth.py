"""HTTP Basic protection for the archive pages: the logs hold real people's names and words.

Closed by default: with no password configured and `web.public` false, every page answers 403.
"""

from __future__ import annotations

import base64
import binascii
import hmac

from aiohttp import web

from bot.config import WebSection

REALM = 'Basic realm="archive-bot", charset="UTF-8"'


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
    user_ok = hmac.compare_digest(given[0].encode(), settings.username.encode())
    password_ok = hmac.compare_digest(given[1].encode(), settings.password.encode())
    if not (user_ok and password_ok):
        raise web.HTTPUnauthorized(headers={"WWW-Authenticate": REALM}, text="Wrong user name or password.\n")
