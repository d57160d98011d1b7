"""A fake Telegram Bot API: `POST /bot<token>/<method>` for sendMessage and sendPhoto.

Answers like Telegram does: {"ok": true, "result": Message}; 401 for a wrong token, 400 for a
text over 4096 UTF-16 units, and 429 with `parameters.retry_after` when told to fail.
"""

from __future__ import annotations

import html
import itertools
import json
import re

from aiohttp import web

from tests.fakes.recorder import RECORDED, FakeAPI

TOKEN = "123456:TEST-token-never-logged"


class TelegramAPI(FakeAPI):
    def __init__(self, token: str = TOKEN) -> None:
        super().__init__()
        self.token = token
        self._ids = itertools.count(1001)
        self.app.router.add_post("/bot{token}/{method}", self._method)
        self.chat_admins: list[int] = []  # user ids getChatAdministrators lists

    @property
    def api_base(self) -> str:
        return self.url

    def sent(self, method: str = "sendMessage") -> list[dict]:
        """The payloads of successful-or-not calls of `method`, in order."""
        out = []
        for r in self.requests:
            if r.path.endswith("/" + method):
                out.append(r.json if r.json is not None else r.form)
        return out

    def failure_response(self, status: int, retry_after: float | None) -> web.Response:
        body: dict = {"ok": False, "error_code": status}
        if status == 429:
            seconds = int(retry_after or 1)
            body.update(description=f"Too Many Requests: retry after {seconds}",
                        parameters={"retry_after": seconds})
        else:
            body["description"] = "Internal Server Error" if status >= 500 else "Bad Request"
        return web.json_response(body, status=status)

    async def _method(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"},
                                     status=401)
        method = request.match_info["method"]
        record = request[RECORDED]
        fields = record.json if record.json is not None else record.form
        if method == "sendMessage":
            text = fields.get("text", "")
            if fields.get("parse_mode") == "HTML":  # Telegram counts the text after entity parsing
                text = html.unescape(re.sub(r"<[^>]+>", "", text))
            if not text.strip() or len(text.encode("utf-16-le")) // 2 > 4096:
                return web.json_response({"ok": False, "error_code": 400,
                                          "description": "Bad Request: message is too long"}, status=400)
        elif method == "getChatAdministrators":
            return web.json_response({"ok": True, "result": [
                {"status": "administrator", "user": {"id": uid, "is_bot": False, "first_name": f"Admin{uid}"}}
                for uid in self.chat_admins]})
        elif method == "sendPhoto":
            if "photo" not in record.files:
                return web.json_response({"ok": False, "error_code": 400,
                                          "description": "Bad Request: there is no photo in the request"},
                                         status=400)
        else:
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"},
                                     status=404)
        reply = fields.get("reply_parameters")
        if isinstance(reply, str):
            reply = json.loads(reply)
        result = {"message_id": next(self._ids), "date": 1700000000,
                  "chat": {"id": int(fields["chat_id"]), "type": "supergroup"}}
        if reply:
            result["reply_to_message"] = {"message_id": reply["message_id"]}
        return web.json_response({"ok": True, "result": result})
