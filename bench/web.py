"""Web archive speed over the shared archive: search pages against the bot's /search call, charts.

    .venv/bin/python bench/web.py [--archive ../shared/archive] [--queries 60] [--rounds 3]

Starts the real app on 127.0.0.1 over a fresh SQLite file, ingests the archive and waits for the
answer index (no sentence encoder: search is lexical, the same with or without it). The queries are the payments dictionary's terms (bot/data/payments_terms.txt) that
the engine finds at all, so no archive text is printed. Prints medians and p90 in ms of:
the engine's `search(q, limit=5)` alone (what the bot's /search does, the baseline), `GET
/api/search` (page 1 and page 2: 200 engine hits read, filtered, context loaded), `GET
/archive/search` (the HTML page), and each group page (charts) and a day page.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def summary(name: str, samples: list[float], baseline: float | None = None) -> str:
    ms = sorted(s * 1000 for s in samples)
    p50, p90 = statistics.median(ms), ms[int(0.9 * (len(ms) - 1))]
    ratio = f"  x{p50 / baseline:.1f} of the baseline median" if baseline else ""
    return f"{name:<34} n={len(ms):<4} p50 {p50:8.2f} ms  p90 {p90:8.2f} ms{ratio}"


async def timed(client, path: str, headers: dict, **params) -> float:
    started = time.perf_counter()
    response = await client.get(path, params=params, headers=headers)
    await response.read()
    assert response.status == 200, (path, response.status)
    return time.perf_counter() - started


async def run(archive: Path, count: int, rounds: int) -> None:
    from aiohttp.test_utils import TestClient, TestServer

    from bot.app import create_app, wait_ready
    from bot.config import Config
    from bot.services import SERVICES
    from bot.text import domain_terms

    with tempfile.TemporaryDirectory() as scratch:
        config = Config.model_validate({
            "store": {"url": f"sqlite:///{Path(scratch) / 'bench.db'}"}, "archive": {"paths": [str(archive)]},
            "server": {"run_scheduler": False}, "web": {"password": "bench"}, "chats": [],
            "encoder": {"kind": "none"}})  # search is lexical; encoding the archive would only slow the start
        app = create_app(config)
        headers = {"Authorization": "Basic " + base64.b64encode(b"archive:bench").decode()}
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            started = time.perf_counter()
            await wait_ready(app, timeout=900)
            print(f"ingest + index: {time.perf_counter() - started:.1f} s")
            engine = app[SERVICES].answers
            terms = [t for t, _ in domain_terms() if len(t) >= 2]
            found = [t for t in terms if engine.search(t, limit=1)][:count]
            print(f"queries: {len(found)} dictionary terms with at least one hit")
            engine_times, api1, api2, html = [], [], [], []
            for _ in range(rounds):
                for term in found:
                    t0 = time.perf_counter()
                    engine.search(term, limit=5)
                    engine_times.append(time.perf_counter() - t0)
                    api1.append(await timed(client, "/api/search", headers, q=term))
                    api2.append(await timed(client, "/api/search", headers, q=term, page="2"))
                    html.append(await timed(client, "/archive/search", headers, q=term))
            base = statistics.median(engine_times) * 1000
            print(summary("engine.search(limit=5) [/search]", engine_times))
            print(summary("GET /api/search page 1", api1, base))
            print(summary("GET /api/search page 2", api2, base))
            print(summary("GET /archive/search", html, base))
            groups = (await (await client.get("/api/groups", headers=headers)).json())["groups"]
            for group in groups:
                samples = [await timed(client, f"/archive/{group['group']}", headers) for _ in range(rounds * 3)]
                print(summary(f"group page {group['group']} ({group['days']} days)", samples))
            last = groups[0]
            samples = [await timed(client, f"/archive/{last['group']}/{last['last_date']}", headers)
                       for _ in range(rounds * 3)]
            print(summary("a day page (hour chart)", samples))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--archive", type=Path, default=ROOT.parent / "shared" / "archive")
    parser.add_argument("--queries", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not args.archive.exists():
        print(f"skipped: {args.archive} is absent (the shared archive is not part of the repo)")
        return
    asyncio.run(run(args.archive, args.queries, args.rounds))


if __name__ == "__main__":
    main()
