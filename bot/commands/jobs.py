"""`archive-bot clock | digest | names check | replay`: the scheduled jobs from the command line.

- `clock` runs the scheduler alone (one per deployment when several web processes serve).
- `digest` prints the digest of an archived day, so it can be checked on real days.
- `names check` prints who the nickname rule would remind, from an archived day's speakers.
- `replay` feeds an archived day through the dispatcher as if live (bot/replay.py).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import logging
import signal
import sys
from pathlib import Path

from bot.archive.model import Day
from bot.archive.reader import ArchiveError, ReadOptions, find_day_files, read_day
from bot.commands.common import Failed, config_from, iso_date
from bot.config import Config

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:
    clock = sub.add_parser("clock", help="run the scheduled jobs alone (exactly one per deployment)")
    clock.add_argument("--dry-run", action="store_true", help="print each job's next run time and exit")
    clock.add_argument("--run", metavar="JOB", help="run one job now (ledger-protected) and exit")
    clock.add_argument("--status", action="store_true", help="print the latest ledger rows and stale claims")
    clock.add_argument("--json", action="store_true", help="with --status: one JSON object")
    clock.set_defaults(func=run_clock)

    digest = sub.add_parser("digest", help="print the digest of an archived day")
    digest.add_argument("--archive", required=True, type=Path, help="archive folder (or a day file)")
    digest.add_argument("--group", required=True, help="group folder name, e.g. prodarch")
    digest.add_argument("--date", required=True, type=iso_date, help="YYYY-MM-DD")
    digest.add_argument("--markdown", action="store_true", help="the Markdown rendering (default: plain)")
    digest.add_argument("--chart", type=Path, metavar="PNG", help="also write the activity-by-hour chart")
    digest.set_defaults(func=run_digest)

    names = sub.add_parser("names", help="the nickname rule (rule 2.5)")
    names_sub = names.add_subparsers(dest="names_command", required=True, metavar="ACTION")
    check = names_sub.add_parser("check", help="who would be reminded, from an archived day's speakers")
    check.add_argument("--archive", required=True, type=Path, help="archive folder (or a day file)")
    check.add_argument("--date", required=True, type=iso_date, help="YYYY-MM-DD")
    check.add_argument("--group", help="only this group's day (default: every group with that date)")
    check.add_argument("--members", type=Path, help="file of further known members, one display name a line")
    check.add_argument("--json", action="store_true", help="one JSON object: who would be reminded and why")
    check.set_defaults(func=run_names_check)

    replay = sub.add_parser("replay", help="feed an archived day through the bot as if live; print its replies")
    replay.add_argument("--archive", required=True, type=Path, help="archive folder (or a day file)")
    replay.add_argument("--group", required=True, help="group folder name, e.g. prodarch")
    replay.add_argument("--date", required=True, type=iso_date, help="YYYY-MM-DD")
    pace = replay.add_mutually_exclusive_group()
    pace.add_argument("--speed", type=float, default=0.0, help="N times real time (e.g. 600)")
    pace.add_argument("--instant", action="store_true", help="no waiting between messages (default)")
    replay.set_defaults(func=run_replay)


# -- reading archived days ---------------------------------------------------------------------
def read_options(config: Config) -> ReadOptions:
    return ReadOptions.of(config)


def archived_days(archive: Path, config: Config, date: dt.date | None = None, group: str | None = None,
                  month_day: tuple[int, int] | None = None) -> list[Day]:
    """Days under `archive` matching the date (or month-day) and group; bad files are reported."""
    found = []
    for name, path in find_day_files([archive]):
        if group is not None and name != group:
            continue
        stem = path.name[:10]
        if date is not None and stem != date.isoformat():
            continue
        if month_day is not None and stem[5:10] != f"{month_day[0]:02}-{month_day[1]:02}":
            continue
        try:
            found.append(read_day(path, name, read_options(config)))
        except ArchiveError as exc:
            print(f"archive-bot: skipped {exc}", file=sys.stderr)
    return found


def _one_day(args: argparse.Namespace, config: Config) -> Day:
    try:
        days = archived_days(args.archive, config, args.date, args.group)
    except ArchiveError as exc:
        raise Failed(f"{exc}") from None
    if not days:
        raise Failed(f"no day {args.date} for group {args.group!r} under {args.archive}")
    return days[0]


# -- digest ------------------------------------------------------------------------------------
def digest_of_archived_day(day: Day, archive: Path, config: Config):
    """The digest of an archived day, with 'this day in the archive' from earlier years' files."""
    from bot.digest import build_digest, pick_replay
    from bot.topics import Background

    group_days = archived_days(archive, config, group=day.group)
    earlier = [d for d in group_days if d.date < day.date and d.messages and (d.date.month, d.date.day) == (
        day.date.month, day.date.day)]
    replay = pick_replay(max(earlier, key=lambda d: d.date), config.bot.public_base_url) if earlier else None
    background = Background.of_days(d for d in group_days if d.date != day.date)
    return build_digest(day, replay=replay, base_url=config.bot.public_base_url, background=background)


def run_digest(args: argparse.Namespace) -> int:
    from bot.digest import hour_chart_png, render

    config = config_from(args)
    day = _one_day(args, config)
    digest = digest_of_archived_day(day, args.archive, config)
    print(render(digest, markdown=args.markdown))
    if args.chart:
        args.chart.write_bytes(hour_chart_png(digest))
        print(f"chart written to {args.chart}", file=sys.stderr)
    return 0


# -- names check -------------------------------------------------------------------------------
def names_check(days: list[Day], extra_names: list[str], config: Config) -> list[tuple[str, str]]:
    """(name, reason) for every speaker or listed member the rule would remind, in order seen."""
    from bot.nickname_rule import Candidate, NicknameRule, non_conforming

    names = [m.speaker for day in days for m in day.messages] + extra_names
    candidates = [Candidate(name, name) for name in dict.fromkeys(n.strip() for n in names if n.strip())]
    exempt = {config.bot.owner_name, *config.nicknames.allow}
    rule = NicknameRule.from_config(config.nicknames)
    return [(c.name, verdict.reason) for c, verdict in non_conforming(rule, candidates, exempt)]


def run_names_check(args: argparse.Namespace) -> int:
    config = config_from(args)
    try:
        days = archived_days(args.archive, config, args.date, args.group)
    except ArchiveError as exc:
        raise Failed(f"{exc}") from None
    if not days:
        raise Failed(f"no day {args.date} under {args.archive}")
    extra = []
    if args.members:
        try:
            extra = args.members.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise Failed(f"cannot read {args.members}: {exc}") from None
    flagged = names_check(days, extra, config)
    known = len({m.speaker for d in days for m in d.messages} | {n.strip() for n in extra if n.strip()})
    if args.json:
        print(json.dumps({"known": known, "reminded": [{"name": name, "reason": reason} for name, reason in flagged]},
                         ensure_ascii=False))
        return 0
    for name, reason in flagged:
        print(f"{name}\t{reason}")
    print(f"{len(flagged)} of {known} known member(s) would be reminded", file=sys.stderr)
    return 0


# -- clock -------------------------------------------------------------------------------------
async def _clock(config: Config, dry_run: bool, run_job: str | None) -> int:
    import aiohttp

    from bot.app import build_adapters, build_answer_engine, ingest_archive
    from bot.scheduler import JobScheduler
    from bot.services import Services
    from bot.store import connect

    db = await asyncio.to_thread(connect, config.store.url)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
        services = Services(config=config, db=db, http=http)
        services.adapters.update(build_adapters(config, http))
        scheduler = JobScheduler(services)
        if dry_run:
            for job_id, when in scheduler.next_runs(services.now()).items():
                print(f"{job_id}\t{when.isoformat() if when else 'never'}")
            return 0
        try:  # the digest's suggestions and the publication's refresh need the answer engine
            await asyncio.to_thread(ingest_archive, db, config)
            await asyncio.to_thread(services.erasures.before_loading, db)
            services.answers = await asyncio.to_thread(build_answer_engine, db, config)
        except Exception as exc:  # noqa: BLE001 - the jobs still run without suggestions
            log.warning("answer engine not available to the clock: %s", type(exc).__name__)
        if run_job:
            ctx = await scheduler.run(run_job)
            print(f"{run_job}: posted {len(ctx.posted)} message(s); failures: {len(ctx.failures)}")
            return 1 if ctx.failures else 0
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        scheduler.start()
        watch = loop.create_task(services.erasures.poll(services))  # the digests' suggestions stay clean
        log.info("clock running; %s", ", ".join(f"{k} at {v}" for k, v in scheduler.next_runs(services.now()).items()))
        await stop.wait()
        watch.cancel()
        scheduler.shutdown()
    db.dispose()
    return 0


def print_status(config: Config, limit: int = 20, as_json: bool = False) -> None:
    """The ledger's latest posts, and claims whose process died before the send (never re-sent)."""
    import time

    from bot.store import ledger
    from bot.store import connect

    db = connect(config.store.url)
    try:
        runs = [{"claimed": dt.datetime.fromtimestamp(row["claimed_ts"], dt.timezone.utc).isoformat(timespec="seconds"),
                 "job": row["job"], "chat": row["chat"], "period": row["period"], "status": row["status"]}
                for row in ledger.runs(db)[-limit:]]
        stale = [{"job": row["job"], "chat": row["chat"], "period": row["period"], "runner": row["runner"]}
                 for row in ledger.stale(db, int(time.time()) - 3600)]
    finally:
        db.dispose()
    if as_json:
        print(json.dumps({"runs": runs, "stale_claims": stale}, ensure_ascii=False))
        return
    for run in runs:
        print(f"{run['claimed']}\t{run['job']}\t{run['chat']}\t{run['period']}\t{run['status']}")
    for claim in stale:
        print(f"stale claim (not re-sent): {claim['job']} {claim['chat']} {claim['period']} by {claim['runner']}")


def run_clock(args: argparse.Namespace) -> int:
    config = config_from(args)
    if args.status:
        print_status(config, as_json=args.json)
        return 0
    return asyncio.run(_clock(config, args.dry_run, args.run))


# -- replay ------------------------------------------------------------------------------------
def run_replay(args: argparse.Namespace) -> int:
    from bot.replay import replay_day

    config = config_from(args)
    day = _one_day(args, config)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # its job-added chatter is noise here
    report = asyncio.run(replay_day(config, day, speed=0.0 if args.instant else args.speed, out=sys.stdout,
                                    archive=args.archive, db_url=config.store.url if getattr(args, "db", None) else None))
    print(report.summary())
    return 0
