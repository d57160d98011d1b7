"""`archive-bot ingest | stats | export`: day files in, statistics and day files out."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from bot.archive.reader import ArchiveError, ReadOptions, find_day_files
from bot.archive.writer import render_day, write_day
from bot.commands.common import config_from, iso_date
from bot.config import Config
from bot.store import queries
from bot.store.db import connect
from bot.store.ingest import FileResult, Status, ingest_paths

PROGRESS_MIN_FILES = 20  # smaller runs finish before a bar is worth drawing


def register(sub: argparse._SubParsersAction) -> None:
    ingest = sub.add_parser("ingest", help="read day files into the store (unchanged files are skipped)")
    ingest.add_argument("paths", nargs="*", metavar="PATH",
                        help="day file, group folder or folder of group folders (default: archive.paths)")
    ingest.add_argument("--workers", type=int, default=None, help="parsing processes (default: up to 2 on large runs)")
    ingest.set_defaults(func=run_ingest)

    stats = sub.add_parser("stats", help="days, messages, speakers and date range per group and in total")
    stats.add_argument("--json", action="store_true", help="one JSON object with a top-level messages total")
    stats.set_defaults(func=run_stats)

    export = sub.add_parser("export", help="write one stored day back out as a day file")
    export.add_argument("--group", required=True)
    export.add_argument("--date", required=True, type=iso_date, help="YYYY-MM-DD")
    export.add_argument("--out", type=Path, help="archive folder to write <group>/<date>-chat.markdown into "
                                                 "(default: print the file to stdout)")
    export.set_defaults(func=run_export)


def _options(config: Config) -> ReadOptions:
    return ReadOptions.of(config)


def run_ingest(args: argparse.Namespace) -> int:
    config = config_from(args)
    paths = args.paths or [str(path) for path in config.archive.paths]
    err = Console(stderr=True)
    try:
        total = len(find_day_files(paths))
    except ArchiveError:
        total = 0  # a missing path; ingest_paths reports it with the rest
    engine = connect(config.store.url)
    try:
        if err.is_terminal and total > PROGRESS_MIN_FILES:
            with Progress(TextColumn("ingest"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                          console=err, transient=True) as bar:
                task = bar.add_task("ingest", total=total)

                def advance(_: FileResult) -> None:
                    bar.advance(task)

                report = ingest_paths(engine, paths, _options(config), advance, args.workers)
        else:
            report = ingest_paths(engine, paths, _options(config), workers=args.workers)
    finally:
        engine.dispose()
    for error in report.errors:
        print(str(error), file=sys.stderr)  # path:line: reason
    table = Table(title="ingest", title_justify="left")
    table.add_column("files")
    table.add_column("count", justify="right")
    for status in Status:
        table.add_row(status.value, str(report.count(status)))
    table.add_row("messages written", f"{report.messages:,}")
    table.add_row("seconds", f"{report.seconds:.2f}")
    Console().print(table)
    if not report.ok:
        print(f"archive-bot: {report.count(Status.FAILED)} file(s) skipped", file=sys.stderr)
    return 0 if report.ok else 1


def run_stats(args: argparse.Namespace) -> int:
    config = config_from(args)
    engine = connect(config.store.url)
    try:
        result = queries.stats(engine)
    finally:
        engine.dispose()
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=False))
        return 0
    table = Table(title="archive", title_justify="left")
    for name, justify in (("group", "left"), ("days", "right"), ("messages", "right"), ("speakers", "right"),
                          ("first", "left"), ("last", "left")):
        table.add_column(name, justify=justify)
    for row in [*result.groups, result.total]:
        table.add_row("total" if row is result.total else row.group, f"{row.days:,}", f"{row.messages:,}",
                      f"{row.speakers:,}", row.first_date or "-", row.last_date or "-",
                      end_section=row is result.groups[-1] if result.groups else False)
    Console().print(table)
    return 0


def run_export(args: argparse.Namespace) -> int:
    config = config_from(args)
    engine = connect(config.store.url)
    try:
        day = queries.load_day(engine, args.group, args.date, config.bot.timezone)
    finally:
        engine.dispose()
    if day is None:
        print(f"archive-bot: no day {args.date} of group {args.group!r} in the store", file=sys.stderr)
        return 1
    if args.out is None:
        sys.stdout.write(render_day(day))
    else:
        print(write_day(day, args.out))
    return 0
