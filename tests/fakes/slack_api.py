"""A fake Slack Web API: chat.postMessage, the two-step external file upload and users.info.

Checks the Bearer token like Slack ("not_authed" / "invalid_auth" with HTTP 200 and ok=false),
refuses texts over Slack's 40,000-character truncation point ("msg_too_long"), and answers 429
with a `Retry-After` header when told to fail.
"""

from __future__ import annotations

import itertools
import json

from aiohttp import web

from tests.fakes.recorder import RECORDED, FakeAPI

BOT_TOKEN = "xoxb-test-token-never-logged"


class SlackAPI(FakeAPI):
    def __init__(self, token: str = BOT_TOKEN) -> None:
        super().__init__()
        self.token = token
        self._ts = itertools.count(1)
        self._files = itertools.count(1)
        self.uploads: dict[str, bytes] = {}  # file id -> bytes received at the upload URL
        self.users: dict[str, dict] = {}  # user id -> users.info fields (is_admin, is_owner, ...)
        self.app.router.add_post("/api/chat.postMessage", self._post_message)
        self.app.router.add_post("/api/files.getUploadURLExternal", self._get_upload_url)
        self.app.router.add_post("/upload/{file_id}", self._upload)
        self.app.router.add_post("/api/files.completeUploadExternal", self._complete_upload)
        self.app.router.add_post("/api/users.info", self._users_info)

    @property
    def api_base(self) -> str:
        return self.url + "/api"

    def posted(self) -> list[dict]:
        return [r.json for r in self.requests if r.path == "/api/chat.postMessage"]

    def failure_response(self, status: int, retry_after: float | None) -> web.Response:
        if status == 429:
            return web.json_response({"ok": False, "error": "ratelimited"}, status=429,
                                     headers={"Retry-After": str(int(retry_after or 1))})
        return web.Response(status=status, text="upstream failure")

    def _auth_error(self, request: web.Request) -> web.Response | None:
        auth = request.headers.get("Authorization", "")
        if not auth:
            return web.json_response({"ok": False, "error": "not_authed"})
        if auth != f"Bearer {self.token}":
            return web.json_response({"ok": False, "error": "invalid_auth"})
        return None

    async def _post_message(self, request: web.Request) -> web.Response:
        if (error := self._auth_error(request)) is not None:
            return error
        body = request[RECORDED].json or {}
        if not body.get("channel"):
            return web.json_response({"ok": False, "error": "channel_not_found"})
        text = body.get("text") or ""
        if not text.strip():
            return web.json_response({"ok": False, "error": "no_text"})
        if len(text) > 40_000:
            return web.json_response({"ok": False, "error": "msg_too_long"})
        ts = f"1700000000.{next(self._ts):06d}"
        message = {"type": "message", "text": text, "ts": ts, "user": "UBOT"}
        if body.get("thread_ts"):
            message["thread_ts"] = body["thread_ts"]
        return web.json_response({"ok": True, "channel": body["channel"], "ts": ts, "message": message})

    async def _get_upload_url(self, request: web.Request) -> web.Response:
        if (error := self._auth_error(request)) is not None:
            return error
        form = request[RECORDED].form
        if not form.get("filename") or not str(form.get("length", "")).isdigit():
            return web.json_response({"ok": False, "error": "invalid_arguments"})
        file_id = f"F{next(self._files):08d}"
        return web.json_response({"ok": True, "upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id})

    async def _upload(self, request: web.Request) -> web.Response:
        record = request[RECORDED]
        data = record.files["file"][1] if "file" in record.files else record.body
        self.uploads[request.match_info["file_id"]] = data
        return web.Response(text=f"OK - {len(data)}")

    async def _complete_upload(self, request: web.Request) -> web.Response:
        if (error := self._auth_error(request)) is not None:
            return error
        body = request[RECORDED].json or {}
        files = body.get("files")
        if isinstance(files, str):
            files = json.loads(files)
        if not files or any(f.get("id") not in self.uploads for f in files):
            return web.json_response({"ok": False, "error": "file_not_found"})
        return web.json_response({"ok": True, "files": [{"id": f["id"], "title": f.get("title", "")}
                                                        for f in files]})

    async def _users_info(self, request: web.Request) -> web.Response:
        """users.info as Slack answers it: the user object with its role flags, or user_not_found."""
        if (error := self._auth_error(request)) is not None:
            return error
        user_id = (request[RECORDED].form or {}).get("user", "")
        if user_id not in self.users:
            return web.json_response({"ok": False, "error": "user_not_found"})
        user = {"id": user_id, "name": user_id.lower(), "deleted": False, "is_bot": False, "is_admin": False,
                "is_owner": False, "is_primary_owner": False, **self.users[user_id]}
        return web.json_response({"ok": True, "user": user})
