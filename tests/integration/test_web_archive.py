"""The web archive over real HTTP: protected by default, a page per day with message anchors,
search; and the same pages in a real browser (Debian's Chromium driven by Playwright)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from bot.app import create_app, wait_ready
from bot.config import Config
from tests.integration.browser import CHROMIUM, signed_in_page
from tests.integration.conftest import base_config

PASSWORD = "correct horse"
AUTH = {"Authorization": "Basic " + base64.b64encode(f"archive:{PASSWORD}".encode()).decode()}


def web_config(tmp_path: Path, **web) -> Config:
    raw = base_config(tmp_path)
    raw["web"] = {"password": PASSWORD, **web}
    return Config.model_validate(raw)


@pytest.fixture
async def archive_client(aiohttp_client, tmp_path):
    app = create_app(web_config(tmp_path))
    client = await aiohttp_client(app)
    await wait_ready(app)
    return client


async def test_private_without_a_password(aiohttp_client, tmp_path):
    client = await aiohttp_client(create_app(web_config(tmp_path, password="")))
    response = await client.get("/archive")
    assert response.status == 403
    assert "private" in await response.text()


async def test_sign_in_required_and_checked(archive_client):
    response = await archive_client.get("/archive/prodarch/2018-02-28")
    assert response.status == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    wrong = {"Authorization": "Basic " + base64.b64encode(b"archive:guess").decode()}
    assert (await archive_client.get("/archive", headers=wrong)).status == 401
    garbage = {"Authorization": "Basic %%%"}
    assert (await archive_client.get("/archive", headers=garbage)).status == 401


async def test_public_archive_needs_no_password(aiohttp_client, tmp_path):
    app = create_app(web_config(tmp_path, password="", public=True))
    client = await aiohttp_client(app)
    await wait_ready(app)
    assert (await client.get("/archive")).status == 200


async def test_day_page_has_every_message_and_anchors(archive_client):
    response = await archive_client.get("/archive/prodarch/2018-02-28", headers=AUTH)
    assert response.status == 200
    assert response.headers["Cache-Control"].startswith("private")
    page = await response.text()
    assert page.count('<li class="msg') == 146  # every "> HH:MM:SS" block of the sample day
    assert 'id="t-091506"' in page  # the deep link target of an archived answer
    assert "noindex" in page
    assert "<script" not in page and "static.cocolian.cn" in page  # images are links, not loaded


async def test_index_group_and_errors(archive_client):
    index = await (await archive_client.get("/archive", headers=AUTH)).text()
    assert "prodarch" in index and "146" in index
    group = await (await archive_client.get("/archive/prodarch", headers=AUTH)).text()
    assert "/archive/prodarch/2018-02-28" in group
    assert (await archive_client.get("/archive/prodarch/2018-02-30", headers=AUTH)).status == 400
    assert (await archive_client.get("/archive/prodarch/yesterday", headers=AUTH)).status == 400
    assert (await archive_client.get("/archive/prodarch/2019-01-01", headers=AUTH)).status == 404
    assert (await archive_client.get("/archive/nogroup", headers=AUTH)).status == 404


async def test_search_page_links_to_the_day(archive_client):
    response = await archive_client.get("/archive/search", params={"q": "发卡行"}, headers=AUTH)
    page = await response.text()
    assert response.status == 200
    assert "/archive/prodarch/2018-02-28#t-" in page


async def test_html_in_messages_is_escaped(aiohttp_client, tmp_path):
    folder = tmp_path / "archive" / "testgroup"
    folder.mkdir(parents=True)
    (folder / "2020-05-01-chat.markdown").write_text(
        "---\nlayout: source\ntitle: \"2020-05-01-WeChat\"\ndate: 2020-05-01 12:00:00\nauthor: Tester\n---\n"
        "> 10:00:00  张三-某公司-产品-北京  \n   \n&amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt; @李四?看看  \n   \n",
        encoding="utf-8")
    raw = base_config(tmp_path)
    raw["archive"] = {"paths": [str(tmp_path / "archive")]}
    raw["web"] = {"password": PASSWORD}
    app = create_app(Config.model_validate(raw))
    client = await aiohttp_client(app)
    await wait_ready(app)
    page = await (await client.get("/archive/testgroup/2020-05-01", headers=AUTH)).text()
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)" in page
    assert '<span class="mention">@李四</span>' in page


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (make test installs it as root)")
async def test_in_a_real_browser(archive_client, tmp_path):
    base = str(archive_client.make_url("/archive"))
    async with signed_in_page(PASSWORD) as page:
        await page.goto(base)
        await page.click("text=prodarch")
        await page.click("ol.days >> text=2018-02-28")
        assert await page.locator("li.msg").count() == 146
        await page.goto(base + "/prodarch/2018-02-28#t-091506")
        target = page.locator("#t-091506")
        assert await target.evaluate("el => el.matches(':target')")
        outline = await target.evaluate("el => getComputedStyle(el).outlineStyle")
        assert outline == "solid"  # the linked message is highlighted
        await page.fill("input[name=q]", "发卡行")
        await page.press("input[name=q]", "Enter")
        await page.wait_for_url("**/archive/search**")
        assert await page.locator("ol.hits li").count() >= 1
        await page.screenshot(path=str(tmp_path / "search.png"))
