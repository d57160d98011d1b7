"""Reply links in day files: which message answers which, as a kramdown attribute line.

A message that has an id or replies to another carries one extra line right after its header:

    > 09:15:02  Alice  
    {: #m1042 data-reply-to="m1037"}
       
    message text  

This is kramdown's block inline attribute list (IAL): Jekyll renders it as `id` and
`data-reply-to` attributes of the header's blockquote, so the page shows nothing new and every
message with an id gets an HTML anchor. Files without such lines read exactly as before.

Only the canonical forms the writer produces are read as links (`{: #ID}`, `{: #ID
data-reply-to="ID"}`, `{: data-reply-to="ID"}`); anything else after a header stays message
text, so no older file changes meaning. Ids follow kramdown's id syntax `[A-Za-z][A-Za-z0-9_:-]*`;
`anchor` turns any platform id into one, reversibly, so ids from different sources never merge.
"""

from __future__ import annotations

import hashlib
import re

ANCHOR = re.compile(r"[A-Za-z][A-Za-z0-9_:-]{0,79}")
_LINE = re.compile(r'\{: (?:#(?P<id>[A-Za-z][A-Za-z0-9_:-]{0,79}))?(?: ?data-reply-to="(?P<reply>[A-Za-z][A-Za-z0-9_:-]{0,79})")?\}')
_KEPT = re.compile(r"[A-Za-z0-9_-]")
_PLAIN = re.compile(r"[A-Za-z0-9_-]{1,40}")
MAX_RAW = 40  # longer platform ids become a hash (an id stays one short token)


def anchor(raw: str | int) -> str:
    """The archive id for a platform message id: "m" + the id with every character outside
    [A-Za-z0-9_-] written as ":XX" (its UTF-8 bytes in hex), so distinct ids stay distinct.

    Telegram's 1042 becomes "m1042", Slack's "1512085950.000216" "m1512085950:2e000216".
    """
    text = str(raw)
    if _PLAIN.fullmatch(text):  # Telegram's numbers, most CSV ids: nothing to encode
        return "m" + text
    if len(text) > MAX_RAW:
        return "h" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    out = ["m"]
    for char in text:
        if _KEPT.match(char):
            out.append(char)
        else:
            out.extend(f":{byte:02x}" for byte in char.encode("utf-8", "surrogatepass"))
    return "".join(out)


def links_line(message_id: str | None, reply_to: str | None) -> str | None:
    """The attribute line for a message, or None when it has neither an id nor a reply link."""
    if message_id is None and reply_to is None:
        return None
    for value in (message_id, reply_to):
        if value is not None and not ANCHOR.fullmatch(value):
            raise ValueError(f"not an archive message id: {value!r} (use bot.archive.links.anchor)")
    parts = []
    if message_id is not None:
        parts.append(f"#{message_id}")
    if reply_to is not None:
        parts.append(f'data-reply-to="{reply_to}"')
    return "{: " + " ".join(parts) + "}"


def parse_links(line: str) -> tuple[str | None, str | None] | None:
    """(id, reply_to) from a canonical attribute line; None for any other line."""
    if line[:3] != "{: ":
        return None
    found = _LINE.fullmatch(line)
    if found is None or (found["id"] is None and found["reply"] is None):
        return None
    if links_line(found["id"], found["reply"]) != line:  # only the exact form the writer produces
        return None
    return found["id"], found["reply"]
