"""Failed archive sign-ins are counted in the store: two `serve` processes behind one address
throttle a guesser together, and a restarted process remembers its count (SQLite and PostgreSQL)."""

from __future__ import annotations

import base64

import aiohttp
import pytest

from bot.config import SAMPLE_ARCHIVE
from tests.serve_process import ServeProcess, serving, write_config

PASSWORD = "correct horse"
RIGHT = {"Authorization": "Basic " + base64.b64encode(f"archive:{PASSWORD}".encode()).decode()}
WRONG = {"Authorization": "Basic " + base64.b64encode(b"archive:guess").decode()}
ATTEMPTS = 4


@pytest.fixture
async def two_servers(store_url, tmp_path):
    configs = {name: write_config(tmp_path / f"{name}.toml", {
        "store": {"url": store_url},
        "archive": {"paths": [str(SAMPLE_ARCHIVE)], "publish_dir": str(tmp_path / "published")},
        "server": {"run_scheduler": False, "instance": f"web-{name}"},
        "web": {"password": PASSWORD, "login_attempts": ATTEMPTS, "login_window_seconds": 600},
        "encoder": {"kind": "none"},
    }) for name in ("a", "b")}
    async with serving(configs, tmp_path) as processes:
        yield processes


async def status(process: ServeProcess, headers: dict, path: str = "/archive") -> tuple[int, str | None]:
    async with aiohttp.ClientSession() as http:
        async with http.get(process.url + path, headers=headers) as response:
            return response.status, response.headers.get("Retry-After")


async def test_failures_spread_over_two_processes_are_throttled_together(two_servers):
    a, b = two_servers
    assert (await status(a, RIGHT))[0] == 200
    # alternating processes: each saw only half the failures, the store saw them all
    spread = [(await status(a if n % 2 else b, WRONG))[0] for n in range(ATTEMPTS)]
    assert spread == [401] * ATTEMPTS
    for process in (a, b):
        code, retry_after = await status(process, RIGHT)  # even the right password waits now
        assert code == 429 and 0 < int(retry_after) <= 600
    assert (await status(b, WRONG, "/api/groups"))[0] == 429  # the API shares the record

    await a.stop()  # a restart does not forget the count
    await a.start()
    await a.ready(timeout=120)
    code, retry_after = await status(a, RIGHT)
    assert code == 429 and 0 < int(retry_after) <= 600
