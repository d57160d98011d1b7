"""A fake bridge program's callback endpoint: receives the bot's signed replies (`POST /send`).

It checks the signature independently of the adapter (its own HMAC code, same secret), so a
signing bug shows up as a 401 here. 429 answers carry `Retry-After`.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools

from aiohttp import web

from tests.fakes.recorder import RECORDED, FakeAPI

BRIDGE_SECRET = "bridge-secret-never-logged"


class BridgeCallback(FakeAPI):
    def __init__(self, secret: str = BRIDGE_SECRET) -> None:
        super().__init__()
        self.secret = secret
        self._ids = itertools.count(1)
        self.app.router.add_post("/send", self._send)

    @property
    def callback_url(self) -> str:
        return self.url + "/send"

    def posted(self) -> list[dict]:
        return [r.json for r in self.requests if r.path == "/send"]

    def failure_response(self, status: int, retry_after: float | None) -> web.Response:
        headers = {"Retry-After": str(int(retry_after or 1))} if status == 429 else {}
        return web.json_response({"ok": False, "error": f"http {status}"}, status=status, headers=headers)

    async def _send(self, request: web.Request) -> web.Response:
        record = request[RECORDED]
        timestamp = request.headers.get("X-Bridge-Timestamp", "")
        given = request.headers.get("X-Bridge-Signature", "")
        digest = hmac.new(self.secret.encode(), timestamp.encode() + b"." + record.body, hashlib.sha256)
        if not timestamp or not hmac.compare_digest(given, "sha256=" + digest.hexdigest()):
            return web.json_response({"ok": False, "error": "bad signature"}, status=401)
        body = record.json
        if not isinstance(body, dict) or not body.get("chat_id") or not (body.get("text") or body.get("image")):
            return web.json_response({"ok": False, "error": "chat_id and text required"}, status=400)
        return web.json_response({"ok": True, "message_id": f"wx-{next(self._ids)}"})
