"""Search, charts and exchanges in a real browser (Debian's Chromium driven by Playwright).

Screenshots of the search, group and day pages (desktop and phone widths) are saved under
tests/screenshots/ (git-ignored) for a person to look at.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.browser import CHROMIUM, signed_in_page
from tests.integration.test_web_search import GROUP, PASSWORD, TERM, client  # noqa: F401 - the fixture

SHOTS = Path(__file__).parent.parent / "screenshots"
PHONE = {"width": 390, "height": 844}

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (make test installs it)")


@pytest.fixture
async def browser_page(client):
    SHOTS.mkdir(exist_ok=True)
    async with signed_in_page(PASSWORD) as page:
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("response", lambda r: errors.append(f"{r.status} {r.url}")
                if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
        page.base = str(client.make_url("/archive"))
        page.errors = errors
        yield page


async def test_search_filters_pages_and_click_through(browser_page):
    page = browser_page
    await page.goto(page.base + "/search")
    await page.fill("form.filters input[name=q]", TERM)
    await page.select_option("form.filters select[name=group]", GROUP)
    await page.click("form.filters button")
    await page.wait_for_url("**/archive/search?**")
    assert await page.locator("li.hit").count() == 10
    first_mark = page.locator("li.hit mark").first
    assert await first_mark.inner_text() == TERM
    assert await first_mark.evaluate("el => getComputedStyle(el).backgroundColor") != "rgba(0, 0, 0, 0)"
    await page.screenshot(path=str(SHOTS / "search.png"), full_page=True)

    await page.click("a[rel=next]")
    await page.wait_for_url("**page=2**")
    assert await page.locator("li.hit").count() == 9

    await page.fill("form.filters input[name=speaker]", "Kai")
    await page.fill("form.filters input[name=since]", "2030-04-02")
    await page.fill("form.filters input[name=until]", "2030-05-20")
    await page.click("form.filters button")
    await page.wait_for_url("**speaker=Kai**")
    assert await page.locator("li.hit").count() == 4  # Kai's four lines from 2 April on
    assert "page=" not in page.url  # a new filter starts at the first page

    await page.set_viewport_size(PHONE)
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
    await page.screenshot(path=str(SHOTS / "search-phone.png"), full_page=True)
    hit_line = page.locator("li.hit", has_text="对账单几点出").locator("li.hit-line a.time")
    await hit_line.click()
    await page.wait_for_url(f"**/archive/{GROUP}/2030-05-20#t-131400")
    target = page.locator("#t-131400")
    assert await target.evaluate("el => el.matches(':target')")
    assert "星河通道的对账单几点出？" in await target.inner_text()
    assert page.errors == []


async def test_exchange_page_from_a_result(browser_page):
    page = browser_page
    await page.goto(page.base + "/search?q=" + "备付金账户")
    await page.locator("li.hit a.exchange").first.click()
    await page.wait_for_url("**/archive/qa/**")
    assert "请问星河通道怎么接入" in await page.locator("ol.question").inner_text()
    assert await page.locator("ol.answers li").count() >= 2
    await page.click("a.in-day")
    await page.wait_for_url(f"**/archive/{GROUP}/2030-04-01#t-091230")


async def test_charts_on_group_and_day_pages(browser_page):
    page = browser_page
    for size, suffix in ((None, ""), (PHONE, "-phone")):
        if size:
            await page.set_viewport_size(size)
        await page.goto(page.base + f"/{GROUP}")
        for chart in ("per-day", "calendar", "members"):
            box = await page.locator(f"svg.chart.{chart}").bounding_box()
            assert box and box["width"] > 200 and box["height"] > 50, (chart, box)
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= await page.evaluate("window.innerWidth") + 1  # nothing wider than the screen
        await page.screenshot(path=str(SHOTS / f"group{suffix}.png"), full_page=True)
        await page.goto(page.base + f"/{GROUP}/2030-04-01")
        box = await page.locator("svg.chart.by-hour").bounding_box()
        assert box and box["width"] > 200
        await page.screenshot(path=str(SHOTS / f"day{suffix}.png"), full_page=True)
    await page.set_viewport_size({"width": 1200, "height": 900})
    await page.goto(page.base + f"/{GROUP}")
    await page.locator("svg.calendar a").first.click()  # a calendar day opens the day
    await page.wait_for_url(f"**/archive/{GROUP}/2030-0*")
    assert page.errors == []
