"""Server-rendered SVG charts of a group's activity: messages over time, a calendar of days, the
most active members, a day by hour.

Each chart is one inline <svg> with a viewBox (it scales to a phone's width), colours from CSS
classes in archive.css (no style attributes, no script: the pages' Content-Security-Policy
allows neither), a <title> per bar or day for the exact figure, and text labels escaped.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence

from markupsafe import Markup, escape

from bot.links import day_path

WIDTH = 480  # viewBox units: on a phone about 0.75 px each, on a desktop at most 1.33
MONTHS = "1月 2月 3月 4月 5月 6月 7月 8月 9月 10月 11月 12月".split()
WEEKDAYS = ("一", "三", "五")  # labels of rows 0, 2, 4 (Monday first)
CELL = 13  # calendar cell pitch


def _svg(height: float, label: str, body: list[str], css: str, width: float = WIDTH) -> Markup:
    return Markup(f'<svg class="chart {css}" viewBox="0 0 {width:g} {height:g}" role="img" '
                  f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">'
                  f'<title>{escape(label)}</title>{"".join(body)}</svg>')


def _bucket(dates: Sequence[dt.date]) -> str:
    span = (max(dates) - min(dates)).days if dates else 0
    return "day" if span <= 120 else "week" if span <= 3 * 365 else "month"


def _bucket_start(date: dt.date, size: str) -> dt.date:
    if size == "week":
        return date - dt.timedelta(days=date.weekday())
    if size == "month":
        return date.replace(day=1)
    return date


def _next_bucket(date: dt.date, size: str) -> dt.date:
    if size == "month":
        return (date.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return date + dt.timedelta(days=7 if size == "week" else 1)


def per_day(counts: Sequence[tuple[dt.date, int]]) -> Markup:
    """Messages over time: a bar per day (per week or month for a long archive), empty ones included."""
    if not counts:
        return Markup("")
    size = _bucket([d for d, _ in counts])
    totals: Counter[dt.date] = Counter()
    for date, n in counts:
        totals[_bucket_start(date, size)] += n
    buckets, cursor, last = [], _bucket_start(counts[0][0], size), _bucket_start(counts[-1][0], size)
    while cursor <= last:
        buckets.append(cursor)
        cursor = _next_bucket(cursor, size)
    top, height, left, bottom = max(totals.values()) or 1, 130, 30, 18
    step = (WIDTH - left) / len(buckets)
    unit = {"day": "天", "week": "周", "month": "月"}[size]
    body = [f'<text class="axis" x="{left - 4}" y="12" text-anchor="end">{top}</text>',
            f'<text class="axis" x="{left - 4}" y="{height}" text-anchor="end">0</text>',
            f'<line class="base" x1="{left}" y1="{height}" x2="{WIDTH}" y2="{height}"/>']
    previous_label = None
    for i, start in enumerate(buckets):
        n = totals.get(start, 0)
        h = (height - 14) * n / top
        x = left + i * step
        body.append(f'<rect class="bar" x="{x:.1f}" y="{height - h:.1f}" width="{max(step - 1, 0.6):.1f}" height="{h:.1f}">'
                    f'<title>{start.isoformat()} 起 1 {unit}：{n} 条</title></rect>')
        label = str(start.year) if size != "day" else f"{start.month}月"
        if label != previous_label:
            body.append(f'<text class="axis" x="{x:.1f}" y="{height + bottom - 4}">{label}</text>')
            previous_label = label
    return _svg(height + bottom, f"每{unit}消息数", body, "per-day")


def _level(n: int, cuts: Sequence[int]) -> int:
    return 0 if n == 0 else 1 + sum(n > c for c in cuts)


def calendar(group: str, counts: Sequence[tuple[dt.date, int]], years: int = 3) -> Markup:
    """A calendar per year (the latest `years`): a square per day, darker for more messages, linked."""
    if not counts:
        return Markup("")
    by_date = dict(counts)
    values = sorted(n for n in by_date.values() if n)
    cuts = [values[(len(values) - 1) * k // 4] for k in (1, 2, 3)] if values else [0, 0, 0]  # quartiles
    shown_years = sorted({d.year for d in by_date}, reverse=True)[:years]
    left, top, row_height = 22, 16, 7 * CELL + 24
    body = []
    for row, year in enumerate(shown_years):
        y0 = row * row_height + top
        body.append(f'<text class="axis year" x="0" y="{y0 - 4}">{year}</text>')
        for r, name in zip((0, 2, 4), WEEKDAYS):
            body.append(f'<text class="axis" x="0" y="{y0 + r * CELL + 10}">{name}</text>')
        first = dt.date(year, 1, 1)
        offset = first.weekday()
        date = first
        while date.year == year:
            index = (date - first).days + offset
            week, weekday = divmod(index, 7)
            x, y = left + week * CELL, y0 + weekday * CELL
            if date.day == 1:
                body.append(f'<text class="axis" x="{x}" y="{y0 + 7 * CELL + 10}">{MONTHS[date.month - 1]}</text>')
            n = by_date.get(date, 0)
            cell = (f'<rect class="day q{_level(n, cuts)}" x="{x}" y="{y}" width="{CELL - 2}" height="{CELL - 2}">'
                    f'<title>{date.isoformat()}：{n} 条</title></rect>')
            if date in by_date:
                cell = f'<a href="{escape(day_path(group, date))}">{cell}</a>'
            body.append(cell)
            date += dt.timedelta(days=1)
    width = left + 54 * CELL
    return _svg(len(shown_years) * row_height + top, "每日消息日历", body, "calendar", width)


def top_members(speakers: Sequence[tuple[str, int]]) -> Markup:
    """The most active members: a horizontal bar each with the name and the count."""
    if not speakers:
        return Markup("")
    row, label_width = 22, 170
    top = speakers[0][1] or 1
    body = []
    for i, (name, n) in enumerate(speakers):
        y = i * row
        shown = name if len(name) <= 13 else name[:12] + "…"
        w = (WIDTH - label_width - 40) * n / top
        body.append(f'<text class="name" x="{label_width - 6}" y="{y + 15}" text-anchor="end">{escape(shown)}</text>'
                    f'<rect class="bar" x="{label_width}" y="{y + 4}" width="{w:.1f}" height="{row - 8}">'
                    f'<title>{escape(name)}：{n} 条</title></rect>'
                    f'<text class="axis" x="{label_width + w + 4:.1f}" y="{y + 15}">{n}</text>')
    return _svg(len(speakers) * row, "最活跃的成员", body, "members")


def by_hour(times: Sequence[dt.datetime]) -> Markup:
    """A day's messages per hour, 0 to 23."""
    hours = Counter(t.hour for t in times)
    top, height, left, bottom = max(hours.values(), default=0) or 1, 110, 26, 18
    step = (WIDTH - left) / 24
    body = [f'<text class="axis" x="{left - 4}" y="12" text-anchor="end">{top}</text>',
            f'<line class="base" x1="{left}" y1="{height}" x2="{WIDTH}" y2="{height}"/>']
    for hour in range(24):
        n = hours.get(hour, 0)
        h = (height - 14) * n / top
        x = left + hour * step
        body.append(f'<rect class="bar" x="{x:.1f}" y="{height - h:.1f}" width="{step - 2:.1f}" height="{h:.1f}">'
                    f'<title>{hour:02d}:00–{hour:02d}:59：{n} 条</title></rect>')
        if hour % 4 == 0:
            body.append(f'<text class="axis" x="{x:.1f}" y="{height + bottom - 4}">{hour:02d}</text>')
    return _svg(height + bottom, "按小时的消息数", body, "by-hour")
