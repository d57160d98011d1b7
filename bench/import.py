"""How long a 1M-message Telegram export takes to import, and its peak memory.

Generates a Telegram Desktop `result.json` (one chat, written the way Telegram Desktop writes it:
indented, every kind of entry: text, entity lists, replies, photos, stickers, files, edits,
service entries), then runs in separate processes, each reporting its own peak RSS:

  import       archive-bot import telegram: stream (ijson) -> day files -> ingest into SQLite
  json.load    only parsing the file with the standard library (what streaming avoids)
  ijson        only iterating the messages with ijson (the parsing part of `import`)

    python bench/import.py [--messages 1000000] [--keep DIR]

Needs no shared archive. The generated export is cached under the temporary folder.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORDS = ("清算 结算 对账 退款 银联 二维码 收单 商户 通道 备付金 费率 分润 风控 拒付 代扣 快捷 网关 账户 "
         "记账 冲正 差错 日切 手续费 跨境 外汇 申报 牌照 监管 合规 接口 联调 上线 回调 签名 证书").split()
NAMES = [f"{surname}{given}" for surname in "林陈周何孙吴郑王冯赵" for given in ("一鸣", "小溪", "大川", "子涵", "晓雨")]
START = 1_640_995_200  # 2022-01-01 00:00 UTC


def generate(path: Path, count: int, seed: int = 13) -> None:
    """Write a one-chat export of `count` message entries (plus about 1% service entries)."""
    rng = random.Random(seed)
    step = 63_072_000 / count  # two years
    with path.open("w", encoding="utf-8") as out:
        out.write('{\n "name": "基准测试群",\n "type": "private_supergroup",\n "id": 1000000001,\n "messages": [\n')
        entry_id = 0
        for i in range(count):
            entry_id += 1
            ts = int(START + i * step)
            if i and i % 100 == 0:
                out.write(_dump({"id": entry_id, "type": "service", "date": _date(ts), "date_unixtime": str(ts),
                                 "actor": rng.choice(NAMES), "actor_id": "user1", "action": "invite_members",
                                 "members": [rng.choice(NAMES)], "text": "", "text_entities": []}) + ",\n")
                entry_id += 1
            out.write(_dump(_message(rng, entry_id, ts)) + (",\n" if i < count - 1 else "\n"))
        out.write(" ]\n}\n")


def _message(rng: random.Random, entry_id: int, ts: int) -> dict:
    speaker = rng.randrange(len(NAMES))
    text = "".join(rng.choice(WORDS) for _ in range(rng.randint(3, 18)))
    if rng.random() < 0.3:
        text += "吗？"
    entry = {"id": entry_id, "type": "message", "date": _date(ts), "date_unixtime": str(ts),
             "from": NAMES[speaker], "from_id": f"user{1000 + speaker}"}
    roll = rng.random()
    if roll < 0.02:
        entry.update(photo="(File not included. Change data exporting settings to download.)", width=1280, height=960)
    elif roll < 0.03:
        entry.update(file="(File not included. Change data exporting settings to download.)", media_type="sticker",
                     sticker_emoji="👍", width=512, height=512)
        text = ""
    elif roll < 0.035:
        entry.update(file="(File not included. Change data exporting settings to download.)",
                     file_name="对账规范.pdf", mime_type="application/pdf")
    if rng.random() < 0.2 and entry_id > 10:
        entry["reply_to_message_id"] = entry_id - rng.randint(1, 8)
    if rng.random() < 0.03:
        entry.update(edited=_date(ts + 60), edited_unixtime=str(ts + 60))
    if rng.random() < 0.1 and text:
        entry["text"] = [text[:4], {"type": "bold", "text": text[4:8]}, text[8:]]
        entry["text_entities"] = [{"type": "plain", "text": text[:4]}, {"type": "bold", "text": text[4:8]},
                                  {"type": "plain", "text": text[8:]}]
    else:
        entry["text"] = text
        entry["text_entities"] = [{"type": "plain", "text": text}] if text else []
    return entry


def _date(ts: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts + 8 * 3600))


def _dump(entry: dict) -> str:
    return "  " + json.dumps(entry, ensure_ascii=False, indent=1).replace("\n", "\n  ")


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_mode(mode: str, export: Path, work: Path) -> dict:
    started = time.perf_counter()
    if mode == "json.load":
        with export.open("rb") as handle:
            count = len(json.load(handle)["messages"])
        return {"entries": count, "seconds": time.perf_counter() - started, "peak_rss_mib": peak_rss_mib()}
    if mode == "ijson":
        import ijson

        with export.open("rb") as handle:
            count = sum(1 for _ in ijson.items(handle, "messages.item", use_float=True))
        return {"entries": count, "seconds": time.perf_counter() - started, "peak_rss_mib": peak_rss_mib()}
    from bot.cli import main

    code = main(["import", "telegram", str(export), "--group", "bench", "--out", str(work / "archive"),
                 "--db", str(work / "store.db"), "--json"])
    return {"exit": code, "seconds": time.perf_counter() - started, "peak_rss_mib": peak_rss_mib()}


def measure(mode: str, export: Path, work: Path) -> dict:
    """Run one mode in a fresh process (its own peak RSS) and return what it printed last."""
    done = subprocess.run([sys.executable, __file__, "--mode", mode, "--export", str(export), "--work", str(work)],
                          capture_output=True, text=True, check=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    return {"summary": json.loads(lines[0]) if len(lines) > 1 else None, **json.loads(lines[-1])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="folder for the export, archive and store (kept afterwards)")
    parser.add_argument("--skip-json-load", action="store_true", help="leave out the json.load comparison (slow)")
    parser.add_argument("--mode", help=argparse.SUPPRESS)
    parser.add_argument("--export", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mode:
        print(json.dumps(run_mode(args.mode, args.export, args.work)))
        return
    cache = Path(tempfile.gettempdir()) / "archive-bot-bench-import"
    cache.mkdir(exist_ok=True)
    export = cache / f"telegram-{args.messages}.json"
    if not export.exists():
        started = time.perf_counter()
        generate(export.with_suffix(".tmp"), args.messages)
        export.with_suffix(".tmp").rename(export)
        print(f"generated {args.messages:,} messages, {export.stat().st_size / 2**20:,.0f} MiB "
              f"in {time.perf_counter() - started:.1f} s")
    print(f"export: {export} ({export.stat().st_size / 2**20:,.0f} MiB, {args.messages:,} messages)")
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-import-"))
    try:
        print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        for mode in ("ijson",) if args.skip_json_load else ("ijson", "json.load"):
            result = measure(mode, export, work)
            print(f"{mode:>10}: parse only {result['seconds']:6.1f} s, peak RSS {result['peak_rss_mib']:,.0f} MiB")
        first = measure("import", export, work)
        again = measure("import", export, work)  # the same export again: nothing new
        for label, result in (("import", first), ("re-import", again)):
            summary = result["summary"] or {}
            print(f"{label:>10}: {result['seconds']:6.1f} s (export to day files {summary.get('seconds', 0):.1f} s, "
                  f"ingest {summary.get('ingest_seconds', 0):.1f} s), peak RSS {result['peak_rss_mib']:,.0f} MiB, "
                  f"{args.messages / result['seconds']:,.0f} messages/s; imported {summary.get('imported', 0):,}, "
                  f"already archived {summary.get('already_archived', 0):,}, days {summary.get('days', 0):,}, "
                  f"skipped {sum((summary.get('skipped') or {}).values()):,}")
        print(f"load average after: {os.getloadavg()[0]:.1f}")
        db = work / "store.db"
        print(f"store {db.stat().st_size / 2**20:,.0f} MiB, day files "
              f"{sum(p.stat().st_size for p in (work / 'archive').rglob('*.markdown')) / 2**20:,.0f} MiB")
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
