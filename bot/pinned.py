"""A pinned unit turned back into what the bot posts: who said it and when, with a link.

Pins name units by key (bot/learning.py): an archived unit of any kind (exchange, reply chain, talk
passage, conversation window), one archived message, or a live message. The archived ones are read
from the answer engine and the store; a unit that is gone (erased, or its day removed) resolves to
None and the bot answers as if it had no pin.
"""

from __future__ import annotations

import datetime as dt

from bot.qa.results import Match
from bot.qa.reply import answer_text, shorten
from bot.qa.units import UNIT_KINDS
from bot.services import Services
from bot.store import live, queries

PINNED = "（管理员置顶的答案）"
LINE_CHARS = 280


def _cite(speaker: str, when: dt.datetime, text: str, link: str) -> str:
    lines = [PINNED, f"{speaker}（{when:%Y-%m-%d %H:%M}）：{shorten(text, LINE_CHARS)}"]
    if link:
        lines.append(link)
    return "\n".join(lines)


def pinned_text(services: Services, unit: str) -> str | None:
    """The answer text for a pinned unit, or None when it can no longer be found."""
    from bot.links import day_url

    kind, _, rest = unit.partition(":")
    base = services.config.bot.public_base_url
    if kind in UNIT_KINDS:
        found = services.answers.unit(unit) if services.answers is not None else None
        return PINNED + "\n" + answer_text(Match(found, 1.0), base) if found is not None else None
    if kind == "msg":
        group, date, seq = rest.rsplit(":", 2)
        day = queries.load_day(services.db, group, date, services.zone)
        if day is None or not seq.isdigit() or int(seq) >= len(day.messages):
            return None
        m = day.messages[int(seq)]
        link = day_url(base, group, day.date, m.time.time().replace(microsecond=0))
        return _cite(m.speaker, m.time, m.text, f"原文: {link}" if link else "")
    if kind == "live":
        platform, rest = rest.split(":", 1)
        chat_id, message_id = rest.rsplit(":", 1)
        found = live.message(services.db, platform, chat_id, message_id)
        if found is None or not found.text:
            return None
        return _cite(found.sender_name, dt.datetime.fromtimestamp(found.ts, services.zone), found.text, "")
    return None
