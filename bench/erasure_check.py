"""What catching up with erasures costs an answer when there is nothing to catch up with.

Before a handler reads the answer engine, and before each web page and API call, a running
process asks the store for the newest erasure id (bot/erasure_watch.py). Measured side by side in one run on a SQLite file with
the bundled sample day: (a) a bare thread hop (what any store call from the event loop costs),
(b) the check with nothing new, (c) one `ask` on the answer engine, the work it guards.

    .venv/bin/python bench/erasure_check.py [--rounds 2000]

Target: (b) a small share of (c), within a few times (a). Needs nothing beyond the checkout.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


async def median_us(call, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        await call()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1e6


async def main(rounds: int) -> None:
    import aiohttp

    from bot.app import build_answer_engine, ingest_archive
    from bot.config import SAMPLE_ARCHIVE, Config
    from bot.services import Services
    from bot.store import connect

    with tempfile.TemporaryDirectory() as tmp:
        config = Config.model_validate({"store": {"url": f"sqlite:///{tmp}/bench.db"},
                                        "archive": {"paths": [str(SAMPLE_ARCHIVE)]}, "encoder": {"kind": "none"}})
        db = connect(config.store.url)
        ingest_archive(db, config)
        async with aiohttp.ClientSession() as http:
            services = Services(config=config, db=db, http=http)
            services.erasures.before_loading(db)
            services.answers = build_answer_engine(db, config)
            question = "财付通的哪些业务算发卡行的功能？"

            async def hop():
                await asyncio.to_thread(lambda: None)

            async def check():
                await services.erasures.catch_up_async(services)

            async def ask():
                services.answers.ask(question, "prodarch")

            for call in (hop, check, ask):  # warm up
                await median_us(call, 50)
            a, b, c = [await median_us(call, rounds) for call in (hop, check, ask)]
        db.dispose()
    print(f"rounds: {rounds}, SQLite, bundled sample day")
    print(f"(a) bare thread hop           median {a:8.1f} us")
    print(f"(b) erasure check, nothing new median {b:8.1f} us   {b / a:5.1f}x (a)")
    print(f"(c) engine.ask                median {c:8.1f} us   check is {100 * b / c:5.1f}% of it")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2000)
    asyncio.run(main(parser.parse_args().rounds))
