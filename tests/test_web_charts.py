"""The SVG charts: bars per day, week or month by the archive's span; the calendar's days; escaping."""

from __future__ import annotations

import datetime as dt

from bot.web import charts


def test_short_archive_has_a_bar_per_day_including_empty_days():
    svg = charts.per_day([(dt.date(2030, 4, 1), 10), (dt.date(2030, 4, 5), 3)])
    assert svg.count('<rect class="bar"') == 5  # 1 to 5 April
    assert "2030-04-03 起 1 天：0 条" in svg and "2030-04-05 起 1 天：3 条" in svg


def test_a_year_is_drawn_in_weeks_and_years_in_months():
    weeks = charts.per_day([(dt.date(2030, 1, 1), 1), (dt.date(2030, 12, 30), 2)])  # Tuesday .. Monday
    assert weeks.count('<rect class="bar"') == 53 and "2029-12-31 起 1 周：1 条" in weeks
    months = charts.per_day([(dt.date(2028, 1, 15), 4), (dt.date(2028, 1, 20), 5), (dt.date(2031, 12, 1), 1)])
    assert months.count('<rect class="bar"') == 48 and "2028-01-01 起 1 月：9 条" in months


def test_calendar_links_archived_days_only_and_shades_by_count():
    counts = [(dt.date(2030, 1, 1), 1), (dt.date(2030, 1, 2), 50), (dt.date(2031, 3, 1), 8)]
    svg = charts.calendar("a/b", counts)
    assert svg.count('<rect class="day') == 365 * 2
    assert svg.count("<a href=") == 3 and 'href="/archive/a%2Fb/2030-01-02"' in svg
    assert '<rect class="day q0"' in svg and '<rect class="day q4"' in svg  # none, and the busiest


def test_names_are_escaped_and_cut():
    svg = charts.top_members([("<script>x</script>" * 3, 9), ("短名", 2)])
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert "短名" in svg and svg.count('<rect class="bar"') == 2


def test_hours():
    times = [dt.datetime(2030, 1, 1, h, 5) for h in (0, 9, 9, 23)]
    svg = charts.by_hour(times)
    assert svg.count('<rect class="bar"') == 24 and "09:00–09:59：2 条" in svg and "23:00–23:59：1 条" in svg
