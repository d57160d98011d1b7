"""Build signed inbound webhook requests the way each platform does (for end-to-end tests).

Each helper returns what an aiohttp test client needs: `(headers, body)` or, for WeCom,
`(query, body)`. The signing code is the adapters' own; the unit tests check it against
independent computations and the platforms' documented formats.
"""

from __future__ import annotations

import json
from typing import Any

from bot.platforms import bridge, slack, wecom


def _raw(body: dict | bytes) -> bytes:
    return body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()


def slack_signed(secret: str, body: dict | bytes, now: float,
                 content_type: str = "application/json") -> tuple[dict[str, str], bytes]:
    raw, ts = _raw(body), str(int(now))
    return {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": slack.sign(secret, ts, raw)}, raw


def slack_event(event: dict[str, Any], event_id: str = "Ev0000000001") -> dict:
    return {"token": "unused", "team_id": "T0TEST", "api_app_id": "A0TEST", "type": "event_callback",
            "event_id": event_id, "event_time": 1700000000, "event": event}


def bridge_signed(secret: str, body: dict | bytes, now: float) -> tuple[dict[str, str], bytes]:
    raw, ts = _raw(body), str(int(now))
    return {"Content-Type": "application/json", bridge.TIMESTAMP_HEADER: ts,
            bridge.SIGNATURE_HEADER: bridge.sign(secret, ts, raw)}, raw


def wecom_text_xml(content: str, *, sender: str = "zhangsan", msg_id: str = "7000000000000000001",
                   agent_id: str = "1000002", chat_id: str | None = None, corp_id: str = "",
                   create_time: int = 1700000000) -> bytes:
    """The decrypted XML of a text message to a self-built app."""
    fields = {"ToUserName": corp_id, "FromUserName": sender, "CreateTime": str(create_time),
              "MsgType": "text", "Content": content, "MsgId": msg_id, "AgentID": agent_id}
    if chat_id:
        fields["ChatId"] = chat_id
    inner = "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in fields.items())
    return f"<xml>{inner}</xml>".encode()


def wecom_callback(token: str, encoding_aes_key: str, corp_id: str, plain_xml: bytes, *,
                   timestamp: str = "1700000000", nonce: str = "1372623149") -> tuple[dict[str, str], bytes]:
    """Encrypt and sign `plain_xml` as WeCom posts it: (query parameters, XML body)."""
    encrypted = wecom.encrypt(wecom.aes_key(encoding_aes_key), plain_xml, corp_id)
    body = (f"<xml><ToUserName><![CDATA[{corp_id}]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt>"
            f"<AgentID><![CDATA[1000002]]></AgentID></xml>").encode()
    query = {"msg_signature": wecom.signature(token, timestamp, nonce, encrypted),
             "timestamp": timestamp, "nonce": nonce}
    return query, body


def wecom_url_check(token: str, encoding_aes_key: str, corp_id: str, echo: str = "8907226582311283422", *,
                    timestamp: str = "1700000000", nonce: str = "n0nce") -> dict[str, str]:
    """The query of WeCom's `GET` URL verification; the bot must answer with `echo`."""
    echostr = wecom.encrypt(wecom.aes_key(encoding_aes_key), echo.encode(), corp_id)
    return {"msg_signature": wecom.signature(token, timestamp, nonce, echostr), "timestamp": timestamp,
            "nonce": nonce, "echostr": echostr}
