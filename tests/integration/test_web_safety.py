"""The archive pages under hostile archived text: only http/https/relative links are clickable,
every response carries a strict Content-Security-Policy, and in a real browser the archived
`![img](javascript:alert(document.domain))` neither renders as a link nor runs."""

from __future__ import annotations

import pytest

from bot.app import create_app, wait_ready
from bot.web.safety import CONTENT_SECURITY_POLICY, safe_link
from tests.integration.browser import CHROMIUM, signed_in_page
from tests.integration.test_web_archive import AUTH, PASSWORD, web_config

DAY = ("---\nlayout: source\ntitle: \"2020-05-01-WeChat\"\ndate: 2020-05-01 12:00:00\nauthor: Tester\n---\n"
       "> 10:00:00  张三-某公司-产品-北京  \n   \n![img](javascript:alert(document.domain)) \n   \n"
       "> 10:00:05  李四-某公司-技术-上海  \n   \n![img](http://static.example.org/a.png) \n   \n"
       "> 10:00:09  王五-某公司-架构-深圳  \n   \n![img](JaVa\tScRiPt:alert(2)) \n   \n")


@pytest.fixture
async def hostile_archive(aiohttp_client, tmp_path):
    folder = tmp_path / "archive" / "testgroup"
    folder.mkdir(parents=True)
    (folder / "2020-05-01-chat.markdown").write_text(DAY, encoding="utf-8")
    config = web_config(tmp_path).model_copy(update={})
    raw = config.model_dump()
    raw["archive"]["paths"] = [str(tmp_path / "archive")]
    app = create_app(type(config).model_validate(raw))
    client = await aiohttp_client(app)
    await wait_ready(app)
    return client


@pytest.mark.parametrize("url, safe", [
    ("http://x.org/a.png", True), ("HTTPS://x.org", True), ("/archive/g/2020-01-01", True), ("a/b.png", True),
    ("#t-100000", True), ("javascript:alert(1)", False), ("JaVa\tScRiPt:alert(2)", False),
    (" \x01javascript:alert(1)", False), ("data:text/html,<script>", False), ("vbscript:x", False),
    ("java\nscript:x", False), ("a:b/c", False), ("", False), (None, False),
])
def test_safe_link(url, safe):
    assert (safe_link(url) is not None) is safe


async def test_javascript_image_link_is_text_not_a_link(hostile_archive):
    page = await (await hostile_archive.get("/archive/testgroup/2020-05-01", headers=AUTH)).text()
    assert 'href="javascript' not in page.lower() and "href=\"java" not in page.lower()
    assert 'href="http://static.example.org/a.png"' in page
    assert "javascript:alert(document.domain)" in page  # shown as text


@pytest.mark.parametrize("path, status", [
    ("/archive", 200), ("/archive/testgroup", 200), ("/archive/testgroup/2020-05-01", 200),
    ("/archive/search?q=x", 200), ("/archive/static/archive.css", 200), ("/archive/nogroup", 404),
    ("/healthz", 200), ("/archive/testgroup/bad", 400),
])
async def test_every_response_carries_the_policy(hostile_archive, path, status):
    response = await hostile_archive.get(path, headers=AUTH)
    assert response.status == status
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    unauthenticated = await hostile_archive.get(path)
    assert unauthenticated.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (make test installs it as root)")
async def test_no_script_runs_in_a_real_browser(hostile_archive):
    url = str(hostile_archive.make_url("/archive/testgroup/2020-05-01"))
    async with signed_in_page(PASSWORD) as page:
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        violations: list[str] = []
        page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
        response = await page.goto(url)
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert await page.locator("a.image").count() == 1  # only the http image is a link
        await page.click("text=javascript:alert(document.domain)")
        # even markup that slipped through could not run: the policy refuses inline script
        await page.evaluate("""() => { const s = document.createElement('script');
            s.textContent = 'alert(document.domain)'; document.body.appendChild(s); }""")
        await page.wait_for_timeout(300)
        assert dialogs == []
        assert violations, "the browser reported no blocked script"


async def test_failed_sign_ins_are_throttled_per_address(aiohttp_client, tmp_path):
    import base64

    app = create_app(web_config(tmp_path, login_attempts=3, login_window_seconds=60))
    client = await aiohttp_client(app)
    wrong = {"Authorization": "Basic " + base64.b64encode(b"archive:guess").decode()}
    statuses = [(await client.get("/archive", headers=wrong)).status for _ in range(5)]
    assert statuses == [401, 401, 401, 429, 429]
    refused = await client.get("/archive", headers=AUTH)  # even the right password waits out the window
    assert refused.status == 429 and 0 < int(refused.headers["Retry-After"]) <= 60
    from bot.web.auth import THROTTLE
    app[THROTTLE].clock = lambda: 1e12  # the window has passed
    assert (await client.get("/archive", headers=AUTH)).status == 200
    assert (await client.get("/archive", headers=wrong)).status == 401  # a success forgot the failures


async def test_parallel_guesses_from_one_address_get_no_more_tries(aiohttp_client, tmp_path):
    import asyncio
    import base64

    from bot.web.auth import THROTTLE

    app = create_app(web_config(tmp_path, login_attempts=3, login_window_seconds=60))
    client = await aiohttp_client(app)
    wrong = {"Authorization": "Basic " + base64.b64encode(b"archive:guess").decode()}

    async def guess() -> int:
        return (await client.get("/archive", headers=wrong)).status

    statuses = await asyncio.gather(*(guess() for _ in range(12)))  # all in flight at once
    assert sorted(statuses) == [401] * 3 + [429] * 9
    assert app[THROTTLE]._turns == {}  # nobody signing in now: no address held in memory
