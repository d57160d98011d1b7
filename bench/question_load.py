"""A burst of questions at a Telegram webhook, keeping each one's acknowledgement time.

wrk cannot say which request a response belongs to, and a member waits for the answer, not for
the 200: this client (run in a process of its own by bench/webhook.py, so that it does not share
the server's interpreter) posts questions over `connections` keep-alive connections for `seconds`,
each with a distinct message id in a chat of its own (no cool-down or per-chat reply limit in the
way), and returns per question the wall-clock time its 200 arrived. The fake Telegram API stamps
each answer's arrival with the same clock (`delivery_delays`).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import statistics
import time


def question_update(message_id: int, chat: int, text: str) -> bytes:
    return json.dumps({"update_id": message_id, "message": {
        "message_id": message_id, "date": 1764000000, "chat": {"id": chat, "type": "supergroup", "title": "bench"},
        "from": {"id": 10000 + message_id % 400, "is_bot": False, "first_name": f"member{message_id % 400}"},
        "text": text}}, ensure_ascii=False).encode()


async def _burst(url: str, secret: str, texts: list[str], offset: int, seconds: float, connections: int,
                 chats: tuple[int, int], rate: float) -> dict:
    import aiohttp

    counter = itertools.count(1)
    acked: dict[int, float] = {}
    latencies: list[float] = []
    errors = 0
    headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret}
    stop_at = time.monotonic() + seconds
    began = time.perf_counter()

    async def worker(session) -> None:
        nonlocal errors
        while time.monotonic() < stop_at:
            n = next(counter)
            if rate:  # open loop: question n is due n/rate seconds into the burst, however fast the acks
                due = began + n / rate - time.perf_counter()
                if due > 0:
                    await asyncio.sleep(due)
            message_id = offset + n
            body = question_update(message_id, -1_000_000 - (chats[0] + n) % chats[1], texts[n % len(texts)])
            started = time.perf_counter()
            try:
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    ok = response.status == 200
            except aiohttp.ClientError:
                ok = False
            if ok:
                acked[message_id] = time.time()
                latencies.append(time.perf_counter() - started)
            else:
                errors += 1

    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=10)) as session:
        await asyncio.gather(*(worker(session) for _ in range(connections)))
    elapsed = time.perf_counter() - began
    latencies.sort()
    pick = (lambda q: 1000 * latencies[min(len(latencies) - 1, int(q * len(latencies)))]) if latencies else (lambda q: 0.0)
    return {"requests": len(acked) + errors, "seconds": elapsed, "errors": errors, "non2xx": 0,
            "p50_ms": pick(0.50), "p99_ms": pick(0.99), "acked": acked}


def run_burst(url: str, secret: str, texts: list[str], offset: int, seconds: float, connections: int,
              chats: tuple[int, int], rate: float, out) -> None:
    """Process entry point: the burst's result goes to the queue `out`. `rate` > 0 offers that many
    questions a second (while the connections allow), so that two versions get the same load;
    0 sends the next question as soon as a connection's previous one is acknowledged. `chats`:
    (first, configured): question n goes to chat (first + n) % configured, so that each round asks
    in chats of its own (an unprompted answer's cool-down is per chat)."""
    out.put(asyncio.run(_burst(url, secret, texts, offset, seconds, connections, chats, rate)))


def delivery_delays(acked: dict[int, float], delivered: dict[str, list[float]]) -> dict:
    """Seconds from each acknowledged question to its answer's arrival at the fake platform."""
    delays = sorted(delivered[str(i)][0] - t for i, t in acked.items() if str(i) in delivered)
    twice = sum(1 for i in acked if len(delivered.get(str(i), ())) > 1)
    if not delays:
        return {"answered": 0, "missing": len(acked), "twice": twice, "median": 0.0, "p90": 0.0, "max": 0.0}
    return {"answered": len(delays), "missing": len(acked) - len(delays), "twice": twice,
            "median": statistics.median(delays), "p90": delays[min(len(delays) - 1, int(0.9 * len(delays)))],
            "max": delays[-1]}
