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
