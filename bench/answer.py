"""Answer-engine speed at 100k and 1M messages, engine versus the naive rapidfuzz baseline.

    .venv/bin/python bench/answer.py [--archive ../shared/archive] [--sizes 100000,1000000] [--queries 1000]

The shared archive (24k messages) is replicated with dates shifted by 100 days per copy, so
every copy is a distinct set of days with the same texts. Each size runs in a fresh child
process so its peak RSS (VmHWM) is its own; it includes the replicated days themselves. The
queries are the eval set's paraphrases and silent messages plus archived questions, cycled.
Prints index build time (mining included), peak RSS and ask() latency p50/p99, and the same for
`rapidfuzz.process.extractOne(query, all question texts, scorer=fuzz.WRatio)`; for the engine also
search() latency and the time to re-index after one day changed (update_days).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def replicate(days, target: int, distinct: bool = False):
    """Copies of the days, dates shifted 100 days per copy, until `target` messages.

    `distinct` tags every copied text with its copy number, so nothing deduplicates: the worst case.
    """
    out, total, copy = [], 0, 0
    while total < target:
        shift = dt.timedelta(days=100 * copy)
        for day in days:
            if total >= target:
                break
            messages = [dataclasses.replace(m, time=m.time + shift, text=f"{m.text} 副本{copy}" if distinct and copy else m.text)
                        for m in day.messages[: target - total]]
            out.append(dataclasses.replace(day, date=day.date + shift, messages=messages))
            total += len(messages)
        copy += 1
    return out


def queries(days, count: int) -> list[str]:
    from bot.qa.mining import is_question

    rows = [json.loads(line) for line in (ROOT / "tests" / "data" / "eval_questions.jsonl").read_text(encoding="utf-8").splitlines()]
    asked = [m.text for d in days for m in d.messages if is_question(m)]
    random.Random(3).shuffle(asked)
    pool = [r["query"] for r in rows] + asked
    return [pool[i % len(pool)] for i in range(count)]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def child(archive: str, size: int, count: int, which: str, distinct: bool = False) -> dict:
    from bot.archive import read_folder
    from bot.config import AnswerSection
    from bot.qa.engine import AnswerEngine

    days, _ = read_folder([archive])
    asked = queries(days, count)
    days = replicate(days, size, distinct)
    messages = sum(len(d.messages) for d in days)
    rss_data = peak_rss_mb()
    started = time.perf_counter()
    if which == "engine":
        engine = AnswerEngine.from_days(days, AnswerSection())
        ask = engine.ask
        stats = engine.stats()
    else:
        from rapidfuzz import fuzz, process

        from bot.qa.mining import mine_days

        pairs = mine_days(days)
        texts = [p.question_text for p in pairs]

        def ask(q: str):
            return process.extractOne(q, texts, scorer=fuzz.WRatio)
        stats = {"pairs": len(pairs)}
    build = time.perf_counter() - started
    ask(asked[0])  # warm-up
    latencies = []
    for q in asked:
        t = time.perf_counter()
        ask(q)
        latencies.append((time.perf_counter() - t) * 1000)
    extra = {}
    if which == "engine":
        search = []
        for q in asked:
            t = time.perf_counter()
            engine.search(q, limit=10)
            search.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        engine.update_days([days[-1]])  # what the nightly publication does after writing a day
        extra = {"search_p50_ms": percentile(search, 50), "search_p99_ms": percentile(search, 99),
                 "refresh_one_day_s": time.perf_counter() - t}
    stats.pop("messages", None)  # the engine's count is text messages only
    stats.update(extra)
    return {"which": which, "messages": messages, "build_s": build, "rss_days_mb": rss_data,
            "peak_rss_mb": peak_rss_mb(), "p50_ms": percentile(latencies, 50), "p99_ms": percentile(latencies, 99),
            "queries": len(latencies), **stats}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archive", default=str(ROOT.parent / "shared" / "archive"))
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--baseline-queries", type=int, default=200,
                        help="the baseline scans every question per query; fewer queries keep the run short")
    parser.add_argument("--distinct", action="store_true",
                        help="make every copied text unique (no deduplication: the worst case)")
    parser.add_argument("--engine-only", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        which, size = args.child.split(":")
        count = args.queries if which == "engine" else args.baseline_queries
        print(json.dumps(child(args.archive, int(size), count, which, args.distinct)))
        return
    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        for which in ("engine",) if args.engine_only else ("engine", "baseline"):
            out = subprocess.run([sys.executable, __file__, "--archive", args.archive, "--queries", str(args.queries),
                                  "--baseline-queries", str(args.baseline_queries), "--child", f"{which}:{size}"]
                                 + (["--distinct"] if args.distinct else []),
                                 capture_output=True, text=True, check=True)
            row = json.loads(out.stdout.strip().splitlines()[-1])
            results.append(row)
            extra = f" pairs={row.get('pairs')} distinct_q={row.get('distinct_questions', '-')}"
            if which == "engine":
                extra += (f"\n{'':8} search p50 {row['search_p50_ms']:.2f} ms p99 {row['search_p99_ms']:.2f} ms; "
                          f"update_days(one day) {row['refresh_one_day_s']:.1f}s")
            print(f"{which:8} {row['messages']:>9,} msgs  build {row['build_s']:6.1f}s  peak RSS {row['peak_rss_mb']:7.0f} MB "
                  f"(days alone {row['rss_days_mb']:.0f} MB)  ask p50 {row['p50_ms']:7.2f} ms  p99 {row['p99_ms']:7.2f} ms "
                  f"over {row['queries']} queries{extra}", flush=True)
    for which in ("engine", "baseline"):
        rows = [r for r in results if r["which"] == which]
        if len(rows) == 2:
            small, big = rows
            print(f"{which}: {big['messages'] / small['messages']:.0f}x messages -> p50 x{big['p50_ms'] / small['p50_ms']:.2f}, "
                  f"p99 x{big['p99_ms'] / small['p99_ms']:.2f}")


if __name__ == "__main__":
    main()
