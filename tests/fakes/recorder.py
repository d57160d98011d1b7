"""The common part of every fake platform API: record each request, fail on demand.

A fake is a real aiohttp app (served on 127.0.0.1 by pytest-aiohttp's `aiohttp_server`). Tests
read `fake.requests` to see exactly what the bot sent, and call `fake.fail_next(429, 1,
retry_after=3)` to make the next request(s) fail the way that platform fails.
"""

from __future__ import annotations

import json
from email import policy
from email.parser import BytesParser
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

# Where the middleware leaves the record for the route handler (typed key on aiohttp >= 3.12).
RECORDED = web.RequestKey("recorded", object) if hasattr(web, "RequestKey") else "recorded"


@dataclass
class Recorded:
    """One request as the fake received it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    json: Any = None
    form: dict[str, Any] = field(default_factory=dict)  # urlencoded or multipart fields
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # name -> (filename, data)


@dataclass
class _Failure:
    status: int
    times: int
    retry_after: float | None


class FakeAPI:
    """Base for the per-platform fakes: subclasses add routes with `self.app.router`."""

    def __init__(self) -> None:
        self.app = web.Application(middlewares=[self._middleware])
        self.requests: list[Recorded] = []
        self.url = ""  # set by the fixture once the server listens: "http://127.0.0.1:PORT"
        self._failures: list[_Failure] = []

    def fail_next(self, status: int, times: int = 1, retry_after: float | None = None) -> None:
        """Answer the next `times` requests with `status` (429 carries the platform's retry hint)."""
        self._failures.append(_Failure(status, times, retry_after))

    def reset(self) -> None:
        """Forget recorded requests and pending failures."""
        self.requests.clear()
        self._failures.clear()

    def failure_response(self, status: int, retry_after: float | None) -> web.Response:
        """The platform's shape of a failure; subclasses override."""
        headers = {"Retry-After": str(int(retry_after))} if retry_after is not None else {}
        return web.json_response({"ok": False, "error": f"http_{status}"}, status=status, headers=headers)

    def bodies(self, path_suffix: str = "") -> list[Any]:
        """JSON (or form) bodies of the recorded requests whose path ends with `path_suffix`."""
        return [r.json if r.json is not None else r.form for r in self.requests
                if r.path.endswith(path_suffix)]

    @web.middleware
    async def _middleware(self, request: web.Request, handler):
        body = await request.read()
        record = Recorded(request.method, request.path, dict(request.query), dict(request.headers), body)
        ctype = request.content_type
        if ctype == "application/json" and body:
            try:
                record.json = json.loads(body)
            except ValueError:
                record.json = None
        elif ctype == "application/x-www-form-urlencoded":
            record.form = dict(await request.post())
        elif ctype.startswith("multipart/"):
            head = f"Content-Type: {request.headers['Content-Type']}\r\n\r\n".encode()
            message = BytesParser(policy=policy.HTTP).parsebytes(head + body)
            for part in message.iter_parts():
                name = part.get_param("name", header="content-disposition")
                data = part.get_payload(decode=True) or b""
                if part.get_filename():
                    record.files[name] = (part.get_filename(), data)
                else:
                    record.form[name] = data.decode("utf-8")
        self.requests.append(record)
        request[RECORDED] = record
        if self._failures:
            failure = self._failures[0]
            failure.times -= 1
            if failure.times <= 0:
                self._failures.pop(0)
            return self.failure_response(failure.status, failure.retry_after)
        return await handler(request)
