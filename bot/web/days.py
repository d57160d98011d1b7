"""One archived day as the page and the API show it: its messages, anchors and neighbours."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass

from bot.archive.model import Day, Message
from bot.services import Services
from bot.store import queries


def anchor(message: Message) -> str:
    """`t-HHMMSS`: the deep link target of a message (bot.links.day_path)."""
    return f"t-{message.time:%H%M%S}"


@dataclass(frozen=True, slots=True)
class DayView:
    day: Day
    previous: dt.date | None
    next: dt.date | None

    def to_json(self) -> dict:
        day = self.day
        return {
            "group": day.group, "date": day.date.isoformat(), "title": day.title,
            "previous": self.previous.isoformat() if self.previous else None,
            "next": self.next.isoformat() if self.next else None,
            "messages": [{"time": f"{m.time:%H:%M:%S}", "speaker": m.speaker, "text": m.text, "kind": m.kind.value,
                          "image_url": m.image_url, "anchor": anchor(m), "id": getattr(m, "id", None),
                          "reply_to": getattr(m, "reply_to", None)} for m in day.messages],
        }


def _load(services: Services, group: str, date: dt.date) -> DayView | None:
    day = queries.load_day(services.db, group, date, services.zone)
    if day is None:
        return None
    dates = [info.date for info in queries.list_days(services.db, group)]
    position = dates.index(date) if date in dates else -1
    return DayView(day, dates[position - 1] if position > 0 else None,
                   dates[position + 1] if 0 <= position < len(dates) - 1 else None)


async def load_day_view(services: Services, group: str, date: dt.date) -> DayView | None:
    return await asyncio.to_thread(_load, services, group, date)
