"""What the store-kept sign-in throttle costs a signed-in page, with the record empty and full.

Every request with credentials asks the store for the address's recent failures before the
password is compared (bot/web/auth.py, bot/store/sign_ins.py). Measured side by side in one run on
a SQLite file with the bundled sample day: (a) a bare thread hop (what any store call from the
event loop costs), (b) the check with no failures recorded, (c) the check with the table at its
bound (`KEEP_ROWS` failures of rotating addresses, all within the window), (d) recording one
failure at the bound (insert and prune), (e) `GET /archive/<group>/<date>` signed in through the
real app on 127.0.0.1, (f) the same page with a full table.

    .venv/bin/python bench/sign_ins.py [--rounds 1000]

Target: (b) and (c) within a few times (a) and a small share of (e). Needs nothing beyond the checkout.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.erasure_check import median_us  # noqa: E402 - one timing loop for the store benches


def fill(db, now: float, rows: int) -> None:
    """`rows` failures of as many addresses within the last `rows` ms (all within the hour's window)."""
    from sqlalchemy import insert

    from bot.store.schema import failed_sign_ins

    with db.begin() as conn:
        conn.execute(insert(failed_sign_ins), [{"address": f"2001:db8::{n:x}", "ts": int(now * 1000) - rows + n}
                                               for n in range(rows)])


async def main(rounds: int) -> None:
    from aiohttp.test_utils import TestClient, TestServer

    from bot.app import create_app, wait_ready
    from bot.config import SAMPLE_ARCHIVE, Config
    from bot.services import SERVICES
    from bot.store import sign_ins
    from bot.web.auth import THROTTLE

    with tempfile.TemporaryDirectory() as tmp:
        config = Config.model_validate({
            "store": {"url": f"sqlite:///{tmp}/bench.db"}, "archive": {"paths": [str(SAMPLE_ARCHIVE)]},
            "server": {"run_scheduler": False}, "web": {"password": "bench", "login_window_seconds": 3600}, "chats": [], "encoder": {"kind": "none"}})
        app = create_app(config)
        headers = {"Authorization": "Basic " + base64.b64encode(b"archive:bench").decode()}
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            await wait_ready(app, timeout=300)
            db, throttle = app[SERVICES].db, app[THROTTLE]
            groups = (await (await client.get("/api/groups", headers=headers)).json())["groups"]
            group, day = groups[0]["group"], groups[0]["last_date"]

            async def hop():
                await asyncio.to_thread(lambda: None)

            async def check():
                await asyncio.to_thread(throttle.standing, db, "127.0.0.1")

            async def page():
                response = await client.get(f"/archive/{group}/{day}", headers=headers)
                await response.read()
                assert response.status == 200

            async def fail():
                await asyncio.to_thread(throttle.failed, db, "198.51.100.1")

            for call in (hop, check, page):  # warm up
                await median_us(call, 50)
            a, b, e = [await median_us(call, rounds) for call in (hop, check, page)]
            await asyncio.to_thread(fill, db, time.time(), sign_ins.KEEP_ROWS)
            c, f = [await median_us(call, rounds) for call in (check, page)]
            d = await median_us(fail, min(rounds, 200))
            held = sign_ins.count(db)
    print(f"rounds: {rounds}, SQLite, bundled sample day; table at its bound: {sign_ins.KEEP_ROWS:,} rows "
          f"({held:,} after the failures)")
    print(f"(a) bare thread hop              median {a:8.1f} us")
    print(f"(b) throttle check, empty        median {b:8.1f} us   {b / a:5.1f}x (a)")
    print(f"(c) throttle check, full table   median {c:8.1f} us   {c / a:5.1f}x (a)")
    print(f"(d) one failure recorded, full   median {d:8.1f} us")
    print(f"(e) GET day page, empty          median {e:8.1f} us   check is {100 * b / e:5.1f}% of it")
    print(f"(f) GET day page, full table     median {f:8.1f} us   check is {100 * c / f:5.1f}% of it")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1000)
    asyncio.run(main(parser.parse_args().rounds))
