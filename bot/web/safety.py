"""What keeps archived text from acting in a reader's browser: safe links and strict headers.

Archived messages are written by anyone in the chat (and, through the nightly publication, by
anyone who can post to a live chat), so a link in them is only made clickable when it is http,
https or relative; `javascript:`, `data:` and every other scheme stay text. Every response of
the app carries a strict Content-Security-Policy (no script at all, styles and images only from
the bot itself), so even markup that slipped through could not run.
"""

from __future__ import annotations

import re

from aiohttp import web

CONTENT_SECURITY_POLICY = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
                           "base-uri 'none'; frame-ancestors 'none'")
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
SAFE_SCHEMES = ("http", "https")

_IGNORED_BY_BROWSERS = re.compile(r"[\x00-\x20\x7f]")  # browsers drop these before reading a scheme
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
_PATH_START = re.compile(r"[/?#\\]")


def safe_link(url: str | None) -> str | None:
    """`url` when a browser would open it as http, https or a relative link; else None."""
    if not url:
        return None
    probe = _IGNORED_BY_BROWSERS.sub("", url)
    scheme = _SCHEME.match(probe)
    if scheme:
        return url if scheme.group(1).lower() in SAFE_SCHEMES else None
    head = _PATH_START.split(probe, 1)[0]
    return None if ":" in head else url


async def _add_headers(request: web.Request, response: web.StreamResponse) -> None:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)


def add_security_headers(app: web.Application) -> None:
    """Every response of `app` (pages, errors, static files) gets `HEADERS`."""
    app.on_response_prepare.append(_add_headers)
