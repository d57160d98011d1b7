"""Webhook throughput, side by side in one run: (a) a bare aiohttp handler that parses the same
JSON, (b) our Telegram webhook with ordinary chatter (verified, parsed, stored, dispatched, no
answer), (c) our webhook with questions that get answered (sendMessage to a fake Telegram API).

Every server runs in its own process, the load generator in another (aiohttp client, fixed
concurrency, bounded by request count and time); everything listens on 127.0.0.1 only.

    .venv/bin/python bench/webhook.py [--requests 20000] [--seconds 10] [--concurrency 64]

Targets: (b) >= 50% of (a) requests/s; (c) >= 1,000 requests/s; no errors.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECRET = "bench-secret"
BOT_USERNAME = "BenchArchiveBot"
# Ordinary chatter: stored, seen by every observer and the auto-answerer, but no question in it
# (a question-like line costs one more answer-engine call: ~0.3 ms on the sample, ~1 ms on the
# whole shared archive, whether or not it is answered).
CHATTER = [
    "早上好，今天的会议改到下午三点了", "收到，谢谢", "这个方案我们内部再讨论一下", "[强]",
    "昨天的分享很有收获", "周末深圳有个支付沙龙，感兴趣的可以去", "哈哈哈哈", "我们这边也在做类似的项目",
]
# Paraphrases of questions the bundled sample day answers.
QUESTIONS = [
    "财付通作为发卡行是实现了哪些功能？",
    "财付通的哪些业务算发卡行的功能？",
    "财付通既是发卡行又是收单行怎么理解？",
]


# -- servers (each in its own process) ------------------------------------------------------
def _serve(build, ready: mp.Queue, stop: mp.Event) -> None:
    """Run the aiohttp app `build()` on 127.0.0.1:<free port> until `stop` is set."""
    import logging

    from aiohttp import web

    logging.basicConfig(level=logging.WARNING)

    async def main() -> None:
        app = build()
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=30)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        port = runner.addresses[0][1]
        ready.put(port)
        while not stop.is_set():
            await asyncio.sleep(0.1)
        await runner.cleanup()

    asyncio.run(main())


def build_bare():
    from aiohttp import web

    async def handler(request: web.Request) -> web.Response:
        json.loads(await request.read())
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/webhook/telegram", handler)
    return app


class FakeTelegramBuilder:
    def __call__(self):
        from aiohttp import web

        from tests.fakes.telegram_api import TelegramAPI

        fake = TelegramAPI()

        async def count(_request):
            return web.json_response({"sendMessage": sum(1 for r in fake.requests
                                                         if r.path.endswith("/sendMessage"))})

        fake.app.router.add_get("/_count", count)
        return fake.app


class BotBuilder:
    def __init__(self, db_path: str, api_base: str, chats: int) -> None:
        self.db_path, self.api_base, self.chats = db_path, api_base, chats

    def __call__(self):
        from bot.app import create_app
        from bot.config import Config
        from tests.fakes.telegram_api import TOKEN

        config = Config.model_validate({
            "store": {"url": f"sqlite:///{self.db_path}"},
            "server": {"run_scheduler": False, "shutdown_timeout": 30},
            "platforms": {"telegram": {"bot_token": TOKEN, "secret_token": SECRET,
                                       "bot_username": BOT_USERNAME, "api_base": self.api_base}},
            "chats": [{"platform": "telegram", "chat_id": str(-1_000_000 - i), "group": "prodarch"}
                      for i in range(self.chats)],
        })
        return create_app(config)


def start_server(build) -> tuple[mp.Process, mp.Event, int]:
    ctx = mp.get_context("spawn")
    ready, stop = ctx.Queue(), ctx.Event()
    proc = ctx.Process(target=_serve, args=(build, ready, stop), daemon=True)
    proc.start()
    port = ready.get(timeout=120)
    return proc, stop, port


def stop_server(proc: mp.Process, stop: mp.Event) -> None:
    stop.set()
    proc.join(timeout=60)
    if proc.is_alive():
        proc.terminate()


# -- the load generator (its own process) ----------------------------------------------------
def update_body(i: int, chat: int, text: str) -> bytes:
    return json.dumps({"update_id": 1_000_000 + i, "message": {
        "message_id": i + 1, "date": 1_764_000_000 + i // 100,
        "chat": {"id": chat, "type": "supergroup", "title": "bench"},
        "from": {"id": 10_000 + i % 400, "is_bot": False, "first_name": f"成员{i % 400}"},
        "text": text}}, ensure_ascii=False).encode()


def bodies(kind: str, count: int, offset: int) -> list[bytes]:
    if kind == "question":  # one chat per question: answered without hitting per-chat pacing
        return [update_body(offset + i, -1_000_000 - i, QUESTIONS[i % len(QUESTIONS)]) for i in range(count)]
    return [update_body(offset + i, -1_000_000 - (i % 4), CHATTER[i % len(CHATTER)]) for i in range(count)]


def _load(url: str, kind: str, count: int, offset: int, seconds: float, concurrency: int, out: mp.Queue) -> None:
    import aiohttp

    payloads = bodies(kind, count, offset)
    headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET}

    async def main() -> dict:
        latencies: list[float] = []
        errors = 0
        next_index = 0
        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(connector=connector) as session:
            # warm-up: open the connections
            await asyncio.gather(*(session.get(url.rsplit("/webhook", 1)[0] + "/healthz") for _ in range(concurrency)),
                                 return_exceptions=True)
            started = time.perf_counter()
            deadline = started + seconds

            async def worker() -> None:
                nonlocal next_index, errors
                while next_index < len(payloads) and time.perf_counter() < deadline:
                    body = payloads[next_index]
                    next_index += 1
                    t0 = time.perf_counter()
                    try:
                        async with session.post(url, data=body, headers=headers) as response:
                            await response.read()
                            if response.status != 200:
                                errors += 1
                    except aiohttp.ClientError:
                        errors += 1
                    latencies.append(time.perf_counter() - t0)

            await asyncio.gather(*(worker() for _ in range(concurrency)))
            elapsed = time.perf_counter() - started
        return {"sent": len(latencies), "errors": errors, "elapsed": elapsed, "latencies": latencies}

    out.put(asyncio.run(main()))


def run_load(url: str, kind: str, count: int, offset: int, seconds: float, concurrency: int) -> dict:
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    proc = ctx.Process(target=_load, args=(url, kind, count, offset, seconds, concurrency, out))
    proc.start()
    result = out.get(timeout=seconds + 300)
    proc.join()
    lat = sorted(result["latencies"])
    result["rps"] = result["sent"] / result["elapsed"] if result["elapsed"] else 0.0
    result["p50_ms"] = 1000 * statistics.median(lat) if lat else 0.0
    result["p99_ms"] = 1000 * lat[min(len(lat) - 1, int(0.99 * len(lat)))] if lat else 0.0
    return result


async def _get_json(url: str) -> tuple[int, dict]:
    import aiohttp

    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.json(content_type=None)


def wait_ready(port: int, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, _ = asyncio.run(_get_json(f"http://127.0.0.1:{port}/healthz?ready=1"))
        if status == 200:
            return
        time.sleep(0.2)
    raise SystemExit("bot never became ready")


def sent_count(fake_port: int) -> int:
    return asyncio.run(_get_json(f"http://127.0.0.1:{fake_port}/_count"))[1]["sendMessage"]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measured(proc: mp.Process, url: str, kind: str, count: int, offset: int, args) -> dict:
    before = cpu_seconds(proc.pid)
    result = run_load(url, kind, count, offset, args.seconds, args.concurrency)
    result["cpu_us"] = 1e6 * (cpu_seconds(proc.pid) - before) / max(result["sent"], 1)
    return result


def median_run(results: list[dict]) -> dict:
    """The round with the median rate (an odd number of rounds gives a real round)."""
    return sorted(results, key=lambda r: r["rps"])[len(results) // 2]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20_000, help="per scenario and round (upper bound)")
    parser.add_argument("--seconds", type=float, default=8.0, help="per scenario and round (upper bound)")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=5, help="(a) and (b) alternate this many times (odd)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bare_proc, bare_stop, bare_port = start_server(build_bare)
        fake_proc, fake_stop, fake_port = start_server(FakeTelegramBuilder())
        bot_proc, bot_stop, bot_port = start_server(
            BotBuilder(os.path.join(tmp, "bench.db"), f"http://127.0.0.1:{fake_port}", args.requests))
        wait_ready(bot_port)
        bare_url = f"http://127.0.0.1:{bare_port}/webhook/telegram"
        url = f"http://127.0.0.1:{bot_port}/webhook/telegram"
        run_load(bare_url, "chatter", 2000, 0, 5, args.concurrency)  # warm-up
        run_load(url, "chatter", 2000, 50_000_000, 5, args.concurrency)  # warm-up (distinct ids)
        bare_runs, chatter_runs = [], []
        for round_no in range(args.rounds):
            bare_runs.append(measured(bare_proc, bare_url, "chatter", args.requests, 0, args))
            chatter_runs.append(measured(bot_proc, url, "chatter", args.requests,
                                         (round_no + 1) * 1_000_000, args))
        before = sent_count(fake_port)
        started = time.perf_counter()
        questions = measured(bot_proc, url, "question", args.requests, 90_000_000, args)
        expected = before + questions["sent"] - questions["errors"]
        deadline = time.monotonic() + 120
        while sent_count(fake_port) < expected and time.monotonic() < deadline:
            time.sleep(0.1)
        delivered = sent_count(fake_port) - before
        delivery_seconds = time.perf_counter() - started
        for proc, stop in ((bot_proc, bot_stop), (fake_proc, fake_stop), (bare_proc, bare_stop)):
            stop_server(proc, stop)

    bare, chatter = median_run(bare_runs), median_run(chatter_runs)
    rows = [("(a) bare aiohttp handler, json.loads", bare),
            ("(b) our webhook, chatter (stored, no answer)", chatter),
            ("(c) our webhook, questions answered", questions)]
    print(f"\nwebhook benchmark: concurrency {args.concurrency}, up to {args.requests} requests or "
          f"{args.seconds:.0f}s per run, median of {args.rounds} alternating rounds for (a)/(b), "
          f"{os.cpu_count()} CPUs, 127.0.0.1, servers and load generator in separate processes\n")
    print(f"{'scenario':46} {'requests':>8} {'errors':>6} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} "
          f"{'server CPU us/req':>17}")
    for name, r in rows:
        print(f"{name:46} {r['sent']:>8} {r['errors']:>6} {r['rps']:>7.0f} {r['p50_ms']:>7.2f} "
              f"{r['p99_ms']:>7.2f} {r['cpu_us']:>17.0f}")
    print("all rounds req/s: (a) " + ", ".join(f"{r['rps']:.0f}" for r in bare_runs)
          + "; (b) " + ", ".join(f"{r['rps']:.0f}" for r in chatter_runs))
    # Each round's (a) and (b) ran back to back: the median of those paired ratios.
    ratio = statistics.median(c["rps"] / b["rps"] for b, c in zip(bare_runs, chatter_runs) if b["rps"])
    print(f"\n(b)/(a) = {ratio:.0%} of the bare handler's requests/s, median of the rounds' paired ratios "
          f"(target >= 50%); "
          f"CPU per request (a)/(b) = {bare['cpu_us'] / max(chatter['cpu_us'], 1):.0%}")
    print(f"(c) = {questions['rps']:.0f} requests/s acknowledged (target >= 1,000); answers delivered to the "
          f"fake Telegram API: {delivered}/{questions['sent']} in {delivery_seconds:.1f}s "
          f"= {delivered / delivery_seconds:.0f} answers/s end to end")
    errors = sum(r["errors"] for r in bare_runs + chatter_runs) + questions["errors"]
    ok = ratio >= 0.5 and questions["rps"] >= 1000 and not errors and delivered >= questions["sent"]
    print("targets met" if ok else "TARGETS NOT MET")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
