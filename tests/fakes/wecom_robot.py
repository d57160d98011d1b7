"""A fake WeCom (企业微信) group robot: `POST /cgi-bin/webhook/send?key=...`.

Like the real robot it always answers HTTP 200 with {"errcode", "errmsg"}: 93000 for a wrong key,
40058 for a text over 2,048 bytes (markdown over 4,096), 45009 when told to fail with 429.
"""

from __future__ import annotations

import base64
import hashlib

from aiohttp import web

from tests.fakes.recorder import RECORDED, FakeAPI

ROBOT_KEY = "test-robot-key-never-logged"
LIMITS = {"text": 2048, "markdown": 4096}


class WecomRobot(FakeAPI):
    def __init__(self, key: str = ROBOT_KEY) -> None:
        super().__init__()
        self.key = key
        self.app.router.add_post("/cgi-bin/webhook/send", self._send)

    @property
    def webhook_url(self) -> str:
        return f"{self.url}/cgi-bin/webhook/send?key={self.key}"

    def posted(self) -> list[dict]:
        return [r.json for r in self.requests if r.path == "/cgi-bin/webhook/send"]

    def failure_response(self, status: int, retry_after: float | None) -> web.Response:
        if status == 429:
            return web.json_response({"errcode": 45009, "errmsg": "api freq out of limit"})
        return web.Response(status=status, text="server error")

    async def _send(self, request: web.Request) -> web.Response:
        if request.query.get("key") != self.key:
            return web.json_response({"errcode": 93000, "errmsg": "invalid webhook url"})
        body = request[RECORDED].json
        if not isinstance(body, dict) or body.get("msgtype") not in ("text", "markdown", "image"):
            return web.json_response({"errcode": 40008, "errmsg": "invalid message type"})
        kind = body["msgtype"]
        if kind == "image":
            image = body.get("image") or {}
            data = base64.b64decode(image.get("base64", ""))
            if not data or hashlib.md5(data).hexdigest() != image.get("md5"):
                return web.json_response({"errcode": 301019, "errmsg": "media md5 not match"})
            return web.json_response({"errcode": 0, "errmsg": "ok"})
        content = (body.get(kind) or {}).get("content", "")
        if not content:
            return web.json_response({"errcode": 44004, "errmsg": "empty content"})
        if len(content.encode("utf-8")) > LIMITS[kind]:
            return web.json_response({"errcode": 40058, "errmsg": "content exceed max length"})
        return web.json_response({"errcode": 0, "errmsg": "ok"})
