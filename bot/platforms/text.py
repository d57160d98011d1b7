"""Text shaping shared by the adapters: split at a platform's limit, find a leading /command.

Each platform measures its limit differently (Telegram in UTF-16 code units, WeCom in UTF-8
bytes, Slack and the bridge in characters), so the splitter takes the measure as a function.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from itertools import accumulate

from bot.markup import convert_markdown, escape_markdown  # noqa: F401 - the subset every adapter renders

Measure = Callable[[str], int]

# Preferred cut points, best first: paragraph, line, sentence end, space.
_BOUNDARIES = ("\n\n", "\n")
_SENTENCE_ENDS = "。！？；!?;…"
_GLUE = {"\u200d", "\ufe0f", "\ufe0e"}  # ZWJ and variation selectors bind to their neighbours


def chars(text: str) -> int:
    return len(text)


def utf16_units(text: str) -> int:
    """What Telegram counts: characters outside the BMP (most emoji) are two units."""
    return len(text.encode("utf-16-le")) // 2


def utf8_bytes(text: str) -> int:
    """What WeCom counts."""
    return len(text.encode("utf-8"))


def _char_cost(measure: Measure) -> Callable[[str], int]:
    if measure is chars:
        return lambda ch: 1
    if measure is utf16_units:
        return lambda ch: 2 if ord(ch) > 0xFFFF else 1
    if measure is utf8_bytes:
        return lambda ch: len(ch.encode("utf-8"))
    return measure


def _joins_previous(ch: str) -> bool:
    """A character that must not start a part (it would detach from the one before it)."""
    return ch in _GLUE or unicodedata.category(ch) in ("Mn", "Me") or 0x1F3FB <= ord(ch) <= 0x1F3FF


def split_text(text: str, limit: int, measure: Measure = chars) -> list[str]:
    """Cut `text` into parts each within `limit`, preferring paragraph, line, sentence, space.

    The separator a cut lands on (a blank line, a newline, a space) is dropped; nothing else is
    lost, so joining the parts gives back the text minus those separators. Characters are never
    cut, and emoji modifiers/ZWJ sequences stay with the character they modify where possible.
    """
    if limit < 4:
        raise ValueError("limit too small to split sensibly")
    if measure(text) <= limit:
        return [text] if text else []
    cost = _char_cost(measure)
    parts: list[str] = []
    rest = text
    while rest:
        # every character costs at least 1, so a part never holds more than `limit` characters
        sums = list(accumulate(cost(ch) for ch in rest[:limit + 1]))
        fit = next((i for i, total in enumerate(sums) if total > limit), None)  # chars that fit
        if fit is None:
            parts.append(rest)
            break
        head, cut, skip = rest[:fit], 0, 0
        for sep in _BOUNDARIES:
            at = head.rfind(sep)
            if at > fit // 2:
                cut, skip = at, len(sep)
                break
        if not cut:
            at = max(head.rfind(ch) for ch in _SENTENCE_ENDS)
            if at > fit // 2:
                cut = at + 1
        if not cut:
            at = head.rfind(" ")
            if at > fit // 2:
                cut, skip = at, 1
        if not cut:
            cut = fit
            while cut > 1 and _joins_previous(rest[cut]):
                cut -= 1
        parts.append(rest[:cut])
        rest = rest[cut + skip:]
    return [part for part in parts if part]


def pack_mentions(rendered: list[tuple[str, int]], budget: int) -> list[tuple[str, int]]:
    """Join rendered mentions (markup, counted size) with spaces into runs of at most `budget`.

    A reply normally carries a few mentions in front of its text; a long list (a reminder to
    many people) becomes several runs so the text part always keeps at least half the limit.
    """
    runs: list[tuple[str, int]] = []
    for markup, size in rendered:
        if runs and runs[-1][1] + 1 + size <= budget:
            runs[-1] = (f"{runs[-1][0]} {markup}", runs[-1][1] + 1 + size)
        else:
            runs.append((markup, size))
    return runs


_COMMAND = re.compile(r"/([A-Za-z][A-Za-z0-9_]{0,31})(?:@([A-Za-z0-9_]+))?(?=\s|$)")


def parse_command(text: str, bot_username: str = "") -> tuple[str | None, str, bool]:
    """Find "/name[@bot] args" at the start of `text` → (command, args, addressed to us by name).

    A command addressed to another bot ("/search@OtherBot") is not ours: (None, "", False).
    The command name is lower-cased; args are the stripped rest of the text.
    """
    stripped = text.lstrip()
    match = _COMMAND.match(stripped)
    if not match:
        return None, "", False
    name, target = match.group(1).lower(), match.group(2)
    if target and target.lower() != bot_username.lower():
        return None, "", False
    return name, stripped[match.end():].strip(), bool(target)
