"""The adapter boundary's last step: every parsed message well-typed and bounded, or a 400.

Adapters turn platform JSON into `Incoming`/`MemberUpdate`; `bounded` then gives every field a
defined fate before anything is stored or dispatched:

- text fields must be strings (a number or object where text belongs is the sender's 400);
- lone surrogates become U+FFFD and NUL characters are dropped (neither can be stored as UTF-8
  text, and PostgreSQL refuses NUL);
- ids (chat, message, member, reply, thread) longer than `MAX_ID` characters are refused (400):
  no platform issues such ids, and they would not fit a database index entry;
- a member listed twice (joins, mentions) is listed once;
- display names are cut to `MAX_NAME` characters (with "…"), so digests and reminders stay short;
- message texts are cut to `MAX_TEXT` characters (the documented limit, Slack's own);
- times must fall between `EARLIEST` and `LATEST` (year 9999 overflows local-time arithmetic).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import operator
import re

from bot.chat import MAX_NAME, Incoming, Member, MemberUpdate, Reaction, shorten
from bot.platforms.base import Parsed, Rejected

MAX_ID = 256
MAX_TEXT = 40_000
MAX_MEMBERS = 1_000  # mentions or joins listed in one message
EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
LATEST = dt.datetime(2100, 1, 1, tzinfo=dt.timezone.utc)

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def clean(text: str) -> str:
    """Text any store can hold: surrogate pairs joined, lone surrogates U+FFFD, NUL dropped."""
    if not _UNSTORABLE.search(text):
        return text
    text = text.replace("\x00", "")
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def _string(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise Rejected(400, f"{field} must be a string, not {type(value).__name__}")
    return clean(value)


def _id(value: object, field: str) -> str:
    value = _string(value, field)
    if len(value) > MAX_ID:
        raise Rejected(400, f"{field} longer than {MAX_ID} characters")
    return value


def _optional_id(value: object, field: str) -> str | None:
    return None if value is None else _id(value, field)


def _member(member: object, field: str) -> Member:
    if not isinstance(member, Member):
        raise Rejected(400, f"{field} is not a member")
    member_id = _id(member.id, f"{field}.id")
    name = shorten(_string(member.name, f"{field}.name"), MAX_NAME)
    if member_id is member.id and name is member.name and type(member.is_bot) is bool:
        return member
    return Member(member_id, name, member.is_bot is True)


def _members(members: object, field: str) -> tuple[Member, ...]:
    if not isinstance(members, tuple):
        raise Rejected(400, f"{field} must be a list")
    if len(members) > MAX_MEMBERS:
        raise Rejected(400, f"more than {MAX_MEMBERS} {field}")
    unique: dict[str, Member] = {}  # one member listed twice is one member
    for n, member in enumerate(members):
        member = _member(member, f"{field}[{n}]")
        unique.setdefault(member.id, member)
    result = tuple(unique.values())
    return members if len(result) == len(members) and all(a is b for a, b in zip(result, members)) else result


def _time(value: object) -> dt.datetime:
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise Rejected(400, "time must be a timezone-aware time")
    if not EARLIEST <= value < LATEST:
        raise Rejected(400, f"time outside {EARLIEST.year}..{LATEST.year}")
    return value


def _plain(m: Incoming) -> bool:
    """The common case, checked at once: a text message with nothing to clean, cut or refuse.
    Spelled out field by field: it runs for every webhook, and a generator over the fields cost
    as much as the checks themselves."""
    if m.mentions or m.joined or m.reply_to is not None or m.thread_id is not None or m.command is not None:
        return False
    sender = m.sender
    if type(sender) is not Member:
        return False
    chat_id, message_id, text, args, sender_id, name, time = (
        m.chat_id, m.message_id, m.text, m.args, sender.id, sender.name, m.time)
    return (type(chat_id) is str and type(message_id) is str and type(text) is str and type(args) is str
            and type(sender_id) is str and type(name) is str
            and len(chat_id) <= MAX_ID and len(message_id) <= MAX_ID and len(sender_id) <= MAX_ID
            and len(name) <= MAX_NAME and len(text) <= MAX_TEXT and len(args) <= MAX_TEXT
            and not _UNSTORABLE.search("".join((chat_id, message_id, text, args, sender_id, name)))
            and type(sender.is_bot) is bool and type(m.addressed) is bool and type(m.edited) is bool
            and type(m.mentions) is tuple and type(m.joined) is tuple
            and type(time) is dt.datetime and time.tzinfo is not None and EARLIEST <= time < LATEST)


def bounded_message(message: Incoming) -> Incoming:
    """`message` with every field checked, cleaned and cut (see the module docstring)."""
    if _plain(message):
        return message
    command = message.command
    if command is not None:
        command = shorten(_string(command, "command"), 64)
    fields = {
        "chat_id": _id(message.chat_id, "chat_id"),
        "message_id": _id(message.message_id, "message_id"),
        "sender": _member(message.sender, "sender"),
        "text": shorten(_string(message.text, "text"), MAX_TEXT),
        "time": _time(message.time),
        "mentions": _members(message.mentions, "mentions"),
        "reply_to": _optional_id(message.reply_to, "reply_to"),
        "thread_id": _optional_id(message.thread_id, "thread_id"),
        "command": command,
        "args": shorten(_string(message.args, "args"), MAX_TEXT),
        "addressed": message.addressed is True,
        "edited": message.edited is True,
        "joined": _members(message.joined, "joined"),
    }
    if all(value is getattr(message, name) or value == getattr(message, name) and type(value) is bool
           for name, value in fields.items()):
        return message  # the common case: nothing to change, no copy
    return dataclasses.replace(message, **fields)


def bounded_update(update: MemberUpdate) -> MemberUpdate:
    return dataclasses.replace(update, chat_id=_id(update.chat_id, "chat_id"),
                               member=_member(update.member, "member"), time=_time(update.time))


MAX_REACTIONS = 20  # emoji added or removed in one reaction event
MAX_REACTION_CHARS = 64


def _emoji(values: object, field: str) -> tuple[str, ...]:
    if not isinstance(values, tuple) or len(values) > MAX_REACTIONS:
        raise Rejected(400, f"{field} must be a list of at most {MAX_REACTIONS}")
    return tuple(shorten(_string(value, field), MAX_REACTION_CHARS) for value in values)


def bounded_reaction(reaction: Reaction) -> Reaction:
    return dataclasses.replace(reaction, chat_id=_id(reaction.chat_id, "chat_id"),
                               message_id=_id(reaction.message_id, "message_id"),
                               member=_member(reaction.member, "member"), time=_time(reaction.time),
                               added=_emoji(reaction.added, "added"), removed=_emoji(reaction.removed, "removed"))


def bounded(parsed: Parsed) -> Parsed:
    """The adapter's `Parsed` with every message, member update and reaction bounded; `Rejected(400)` else."""
    if not parsed.member_updates and not parsed.reactions and all(map(_plain, parsed.messages)):
        return parsed  # nothing, or the plain messages of most webhooks: no copy
    messages = tuple(map(bounded_message, parsed.messages))
    if not parsed.member_updates and not parsed.reactions and all(map(operator.is_, messages, parsed.messages)):
        return parsed  # messages checked and nothing cut: no copy
    return dataclasses.replace(parsed, messages=messages,
                               member_updates=tuple(map(bounded_update, parsed.member_updates)),
                               reactions=tuple(map(bounded_reaction, parsed.reactions)))
