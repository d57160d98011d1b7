"""Deep links into the web archive: one page per group and day, one anchor per message."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote


def day_path(group: str, date: dt.date | str, time: dt.time | str | None = None) -> str:
    """`/archive/<group>/<YYYY-MM-DD>#t-HHMMSS`: the anchor is the message's time of day."""
    date_text = date.isoformat() if isinstance(date, dt.date) else date
    path = f"/archive/{quote(group, safe='')}/{date_text}"
    if time is not None:
        time_text = time.strftime("%H%M%S") if isinstance(time, dt.time) else time.replace(":", "")
        path += f"#t-{time_text}"
    return path


def day_url(base_url: str, group: str, date: dt.date | str, time: dt.time | str | None = None) -> str | None:
    """The absolute link, or None when no public_base_url is configured."""
    if not base_url:
        return None
    return base_url.rstrip("/") + day_path(group, date, time)


def qa_id(group: str, date: dt.date | str, seq: int) -> str:
    """A mined exchange's id: `<group>:<date>:<position of its question in the day>`; stable while
    the day and the miner's choice of question stay the same, and buildable without the store."""
    date_text = date.isoformat() if isinstance(date, dt.date) else date
    return f"{group}:{date_text}:{seq}"


def qa_path(pair) -> str:
    """`/archive/qa/<unit id>` of a retrieval unit of any kind (`QAPair.unit_id`, bot.qa.mining);
    the page still takes the older `<group>:<date>:<n>` exchange ids (`qa_id`)."""
    return f"/archive/qa/{quote(pair.unit_id, safe=':')}"


def parse_qa_id(text: str) -> tuple[str, dt.date, int] | None:
    """(group, date, seq) of an exchange id, or None when it is not one."""
    parts = text.rsplit(":", 2)
    if len(parts) != 3 or not parts[0] or not parts[2].isascii() or not parts[2].isdigit() or len(parts[2]) > 6:
        return None
    try:
        return parts[0], dt.date.fromisoformat(parts[1]), int(parts[2])
    except ValueError:
        return None
