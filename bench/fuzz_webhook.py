"""Fuzz a served bot: all four platforms configured, every request validly signed, bodies mutated.

Starts `archive-bot serve` in a child process (SQLite in a temporary folder, the bundled sample
day), then posts `--per-adapter` requests to each adapter: a valid message whose fields are
replaced, at random, by hostile values (wrong types, lone surrogates, NUL, year 9999, ids and
names hundreds of thousands of characters long, nested objects, missing fields). Prints the
answers by status per adapter and what the server's log says afterwards (tracebacks, tasks whose
exception was never retrieved). A 5xx or a traceback is a finding.

    .venv/bin/python bench/fuzz_webhook.py [--per-adapter 2200] [--seed 9]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import SAMPLE_ARCHIVE  # noqa: E402
from tests.fakes import four_platforms as fp  # noqa: E402
from tests.serve_process import ServeProcess, free_port, write_config  # noqa: E402

HOSTILE = [
    None, True, False, 0, -1, 5, 1.5, 2**70, -2**63, 1e308, 253402300000, "", "a\ud800b", "\ud800", "x\x00y",
    "9999-12-31T23:59:59-12:00", "0000-01-01T00:00:00Z", "/search\x00", "<script>alert(1)</script>",
    "\n> 09:00:00  我\n", "![i](javascript:alert(1))", [], [1, 2], {}, {"a": 1}, "长" * 300_000, "U" * 224_965,
    "m" * 3000, "\u202e\u2028\u2029", "%s%n", "🙂" * 1000,
]


def hostile(rng: random.Random):
    return rng.choice(HOSTILE)


def mutate(value, rng: random.Random, depth: int = 0):
    """`value` with some of its fields (at any depth) replaced, removed or added."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            roll = rng.random()
            if roll < 0.15:
                out[key] = hostile(rng)
            elif roll < 0.2:
                continue  # missing field
            else:
                out[key] = mutate(item, rng, depth + 1)
        if rng.random() < 0.1:
            out[rng.choice(["edited", "entities", "new_chat_members", "reply_to_message", "thread_ts",
                            "mentions", "subtype", "is_topic_message"])] = hostile(rng)
        return out
    if isinstance(value, list):
        return [mutate(item, rng, depth + 1) for item in value]
    return value


def telegram_body(n: int, rng: random.Random):
    update = fp.telegram_message(rng.choice(["/search 备付金", "财付通是发卡行吗？", "hi"]), message_id=n, update_id=n,
                                 entities=[{"type": "bot_command", "offset": 0, "length": 7}],
                                 new_chat_members=[{"id": 7, "first_name": "Ann"}])
    return mutate(update, rng)


def slack_body(n: int, rng: random.Random):
    return mutate(fp.slack_message(rng.choice(["/search 备付金", "hello <@UARCHBOT1>"]), ts=f"1764000000.{n:06d}",
                                   event_id=f"Ev{n}"), rng)


def bridge_body(n: int, rng: random.Random):
    kind = rng.choice(["message", "message", "join", "member_update"])
    body = fp.bridge_message("/search 备付金", message_id=f"m{n}") | {"type": kind}
    body |= {"members": [{"id": "wxid_a", "name": "Ann"}], "member": {"id": "wxid_a", "name": "Ann"}}
    return mutate(body, rng)


def wecom_body(n: int, rng: random.Random) -> bytes:
    fields = {"ToUserName": fp.WECOM["corp_id"], "FromUserName": "zhangsan", "CreateTime": 1764000000,
              "MsgType": "text", "Content": "/search 备付金", "MsgId": str(7_000_000 + n), "AgentID": "1000002",
              "ChatId": fp.CHATS["wecom"]}
    for key in list(fields):
        roll = rng.random()
        if roll < 0.15:
            value = hostile(rng)
            fields[key] = value if isinstance(value, str) else str(value)
        elif roll < 0.2:
            del fields[key]
    return fp.wecom_xml(fields)


BODIES = {"telegram": telegram_body, "slack": slack_body, "wecom": wecom_body, "bridge": bridge_body}


async def fuzz(url: str, per_adapter: int, seed: int) -> dict[str, Counter]:
    rng = random.Random(seed)
    counts: dict[str, Counter] = {name: Counter() for name in BODIES}
    connector = aiohttp.TCPConnector(limit=16)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as http:
        async def one(platform: str, n: int) -> None:
            query, headers, body = fp.signed(platform, BODIES[platform](n, rng), time.time())
            try:
                async with http.post(f"{url}/webhook/{platform}", params=query, data=body, headers=headers) as response:
                    await response.read()
                    counts[platform][response.status] += 1
            except aiohttp.ClientError as exc:
                counts[platform][type(exc).__name__] += 1

        for start in range(0, per_adapter, 50):
            await asyncio.gather(*(one(platform, n) for platform in BODIES
                                   for n in range(start + 1, min(per_adapter, start + 50) + 1)))
    return counts


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-adapter", type=int, default=2200)
    parser.add_argument("--seed", type=int, default=9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        config = write_config(folder / "bot.toml", {
            "store": {"url": f"sqlite:///{folder / 'bot.db'}"},
            "archive": {"paths": [str(SAMPLE_ARCHIVE)], "publish_dir": str(folder / "published")},
            "server": {"run_scheduler": False, "shutdown_timeout": 2},
            "platforms": fp.platforms_section(),
            "chats": fp.chats_section("prodarch"),
        })
        log = folder / "serve.log"
        server = await ServeProcess(config, free_port(), log).start()
        try:
            await server.ready(timeout=120)
            started = time.perf_counter()
            counts = await fuzz(server.url, args.per_adapter, args.seed)
            elapsed = time.perf_counter() - started
            await asyncio.sleep(5)  # let background handling run into whatever it runs into
        finally:
            await server.stop()
        text = log.read_text(errors="replace")
    total = Counter()
    print(f"\nfuzzed webhook: {args.per_adapter} validly signed requests per adapter in {elapsed:.0f}s (seed {args.seed})\n")
    print(f"{'adapter':10} " + " ".join(f"{status!s:>6}" for status in sorted({s for c in counts.values() for s in c}, key=str)))
    statuses = sorted({s for c in counts.values() for s in c}, key=str)
    for platform, counter in counts.items():
        total.update(counter)
        print(f"{platform:10} " + " ".join(f"{counter.get(s, 0):>6}" for s in statuses))
    print(f"{'all':10} " + " ".join(f"{total.get(s, 0):>6}" for s in statuses))
    server_errors = sum(n for s, n in total.items() if isinstance(s, int) and s >= 500)
    tracebacks = text.count("Traceback")
    never_retrieved = text.count("exception was never retrieved")
    failures = [line for line in text.splitlines() if "failed on" in line]
    sends = sum(": SendFailed: " in line for line in failures)  # outbound URLs point at a closed port
    others = [line.split(": ", 1)[-1] for line in failures if ": SendFailed: " not in line]
    handler_failures = len(others)
    for line in sorted(set(others))[:10]:
        print("  handler failure:", line[:200])
    print(f"\n5xx answers: {server_errors}; server log: {tracebacks} tracebacks, {never_retrieved} task exceptions "
          f"never retrieved, {handler_failures} handler failures ({sends} replies not delivered: the platforms' "
          f"outbound URLs point at a closed port on purpose)")
    return 0 if not server_errors and not tracebacks and not never_retrieved and not handler_failures else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
