"""A bot configuration with all four platforms, and validly signed requests for each of them.

Used by the hostile-input tests and by bench/fuzz_webhook.py, which post whatever body they
like, correctly signed, so that only the bot's parsing and storing decide the answer.
"""

from __future__ import annotations

import json
from typing import Any

from bot.platforms import bridge, slack, wecom
from tests.fakes.telegram_api import TOKEN

TELEGRAM = {"secret_token": "tg-fuzz-secret", "bot_token": TOKEN, "bot_username": "ArchiveFuzzBot"}
SLACK = {"signing_secret": "slack-fuzz-secret", "bot_token": "xoxb-fuzz", "bot_user_id": "UARCHBOT1"}
WECOM = {"token": "QDG6eK", "encoding_aes_key": "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
         "corp_id": "wx5823bf96d3bd56c7"}
BRIDGE = {"secret": "bridge-fuzz-secret"}
CHATS = {"telegram": "-1001234", "slack": "C0PAYMENTS", "wecom": "wrGroupPay01", "bridge": "room-1@chatroom"}


def platforms_section(telegram_api: str = "", slack_api: str = "", robot_url: str = "",
                      callback_url: str = "") -> dict:
    """The `[platforms]` table; outbound URLs default to a closed local port (sends fail fast)."""
    closed = "http://127.0.0.1:9"
    return {"telegram": {**TELEGRAM, "api_base": telegram_api or closed},
            "slack": {**SLACK, "api_base": slack_api or closed},
            "wecom": {**WECOM, "robot_webhook_url": robot_url or f"{closed}/robot"},
            "bridge": {**BRIDGE, "callback_url": callback_url or f"{closed}/bridge"}}


def chats_section(group: str) -> list[dict]:
    return [{"platform": name, "chat_id": chat, "group": group} for name, chat in CHATS.items()]


def _raw(body: Any) -> bytes:
    if isinstance(body, bytes):
        return body
    try:
        return json.dumps(body, ensure_ascii=False).encode()
    except UnicodeEncodeError:  # a lone surrogate: sent as a \u escape, as a platform would
        return json.dumps(body).encode()


def signed(platform: str, body: Any, now: float) -> tuple[dict[str, str], dict[str, str], bytes]:
    """(query, headers, raw body) of a validly signed POST to /webhook/<platform> at time `now`.

    For WeCom `body` is the decrypted XML (bytes); it is encrypted and signed as WeCom does.
    """
    ts = str(int(now))
    if platform == "telegram":
        return {}, {"Content-Type": "application/json",
                    "X-Telegram-Bot-Api-Secret-Token": TELEGRAM["secret_token"]}, _raw(body)
    if platform == "slack":
        raw = _raw(body)
        return {}, {"Content-Type": "application/json", "X-Slack-Request-Timestamp": ts,
                    "X-Slack-Signature": slack.sign(SLACK["signing_secret"], ts, raw)}, raw
    if platform == "bridge":
        raw = _raw(body)
        return {}, {"Content-Type": "application/json", bridge.TIMESTAMP_HEADER: ts,
                    bridge.SIGNATURE_HEADER: bridge.sign(BRIDGE["secret"], ts, raw)}, raw
    if platform == "wecom":
        encrypted = wecom.encrypt(wecom.aes_key(WECOM["encoding_aes_key"]), _raw(body), WECOM["corp_id"])
        envelope = (f"<xml><ToUserName><![CDATA[{WECOM['corp_id']}]]></ToUserName><Encrypt><![CDATA["
                    f"{encrypted}]]></Encrypt><AgentID><![CDATA[1000002]]></AgentID></xml>").encode()
        query = {"msg_signature": wecom.signature(WECOM["token"], ts, "nonce1", encrypted), "timestamp": ts,
                 "nonce": "nonce1"}
        return query, {"Content-Type": "text/xml"}, envelope
    raise ValueError(platform)


def xml_escape_cdata(value: str) -> str:
    return value.replace("]]>", "]]]]><![CDATA[>")


def wecom_xml(fields: dict[str, Any]) -> bytes:
    """A decrypted WeCom callback with the given fields (values as text in CDATA)."""
    inner = "".join(f"<{k}><![CDATA[{xml_escape_cdata(str(v))}]]></{k}>" for k, v in fields.items())
    return f"<xml>{inner}</xml>".encode("utf-8", "surrogatepass")


def telegram_message(text: Any, *, message_id: Any = 1, user: dict | None = None, date: Any = 1764000000,
                     update_id: int = 1, **extra: Any) -> dict:
    message = {"message_id": message_id, "date": date,
               "chat": {"id": int(CHATS["telegram"]), "type": "supergroup"},
               "from": user or {"id": 501, "is_bot": False, "first_name": "Ada"}, "text": text, **extra}
    return {"update_id": update_id, "message": message}


def slack_message(text: Any, *, ts: Any = "1764000000.000100", user: Any = "U0ALICE", event_id: str = "Ev01",
                  **extra: Any) -> dict:
    return {"type": "event_callback", "event_id": event_id, "event_time": 1764000000,
            "event": {"type": "message", "channel": CHATS["slack"], "user": user, "text": text, "ts": ts,
                      "channel_type": "channel", **extra}}


def wecom_message(content: str, *, msg_id: str = "7211234567890123456", user: str = "zhangsan",
                  create_time: Any = 1764000000) -> bytes:
    return wecom_xml({"ToUserName": WECOM["corp_id"], "FromUserName": user, "CreateTime": create_time,
                      "MsgType": "text", "Content": content, "MsgId": msg_id, "AgentID": "1000002",
                      "ChatId": CHATS["wecom"]})


def bridge_message(text: Any, *, message_id: Any = "msg-1", sender: Any = None, time: Any = 1764000000,
                   **extra: Any) -> dict:
    return {"type": "message", "chat_id": CHATS["bridge"], "message_id": message_id,
            "sender": sender or {"id": "wxid_ada", "name": "Ada"}, "text": text, "time": time, **extra}
