"""`archive-bot import FORMAT PATH --group G`: another platform's export into the archive.

The export becomes day files under `--out` (default `archive.publish_dir`), one folder per group,
then those files are ingested. Running it again on a newer, overlapping export adds only what is
new; the summary says what was imported, what was already there and what was skipped and why.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn
from rich.table import Table

from bot.archive.reader import ReadOptions
from bot.commands.common import config_from
from bot.imports import FORMATS, reader
from bot.imports.days import DayFiles, ImportReport
from bot.imports.model import ExportError, NameMap
from bot.store.db import connect
from bot.store.ingest import IngestReport, Status, ingest_paths

PROGRESS_MIN_BYTES = 4 << 20  # smaller exports finish before a bar is worth drawing


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("import", help="convert a Telegram, Slack, WhatsApp, CSV or JSON Lines export "
                                           "into day files and ingest them")
    parser.add_argument("format", choices=sorted(FORMATS), metavar="FORMAT",
                        help="telegram | slack | whatsapp | csv | jsonl")
    parser.add_argument("path", type=Path, metavar="PATH", help="the export (file, folder or Slack zip)")
    parser.add_argument("--group", required=True, help="archive group (folder) the messages belong to")
    parser.add_argument("--out", type=Path, help="archive folder to write <group>/<date>-chat.markdown into "
                                                 "(default: archive.publish_dir)")
    parser.add_argument("--chat", help="Telegram whole-account export: the chat to import (name or id)")
    parser.add_argument("--channel", help="Slack export: the channel to import (name or id)")
    parser.add_argument("--map-names", type=Path, metavar="FILE", help="TOML file renaming or anonymising speakers")
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    parser.set_defaults(func=run_import)


def _selection(args: argparse.Namespace) -> str | None:
    wanted = FORMATS[args.format].selection
    for option in ("chat", "channel"):
        if getattr(args, option) is not None and option != wanted:
            raise ExportError(f"--{option} does not apply to {args.format} exports")
    if wanted == "channel" and args.channel is None:
        raise ExportError("a Slack export holds many channels: choose one with --channel NAME")
    return getattr(args, wanted) if wanted else None


def run_import(args: argparse.Namespace) -> int:
    config = config_from(args)
    zone = config.bot.timezone
    options = ReadOptions(timezone=zone, owner_name=config.bot.owner_name)
    err = Console(stderr=True)
    try:
        selection = _selection(args)
        names = NameMap.load(args.map_names) if args.map_names else None
        days = DayFiles(args.out or config.archive.publish_dir, args.group, zone, FORMATS[args.format].platform,
                        names, options)
        read = reader(args.format)
        if err.is_terminal and _large(args.path):
            with Progress(TextColumn("import"), BarColumn(), TaskProgressColumn(), TimeRemainingColumn(),
                          console=err, transient=True) as bar:
                task = bar.add_task("import", total=None)

                def advance(done: int, total: int) -> None:  # bytes, lines or day files, as the reader counts
                    bar.update(task, completed=done, total=total)

                report = days.add_all(read(args.path, selection, advance, zone))
        else:
            report = days.add_all(read(args.path, selection, None, zone))
    except ExportError as exc:
        print(f"archive-bot: {exc}", file=sys.stderr)
        return 1
    engine = connect(config.store.url)
    try:
        ingest = ingest_paths(engine, report.files, options) if report.files else IngestReport()
    finally:
        engine.dispose()
    for error in ingest.errors:
        print(f"archive-bot: {error}", file=sys.stderr)
    if args.json:
        print(json.dumps(_summary(report, ingest), ensure_ascii=False))
    else:
        Console().print(_table(args, report, ingest))
    return 0 if ingest.ok else 1


def _large(path: Path) -> bool:
    """Worth a progress bar: a big file, or a folder (an unpacked Slack export, a Telegram one)."""
    try:
        return path.is_dir() or path.stat().st_size >= PROGRESS_MIN_BYTES
    except OSError:
        return False  # the reader reports it


def _summary(report: ImportReport, ingest: IngestReport) -> dict:
    return {
        "messages": report.messages, "imported": report.imported, "updated": report.updated,
        "already_archived": report.duplicates, "skipped": dict(sorted(report.skipped.items())),
        "days": report.days, "first": report.first and report.first.isoformat(),
        "last": report.last and report.last.isoformat(), "files_written": [str(p) for p in report.files],
        "ingested": {status.value: ingest.count(status) for status in Status}, "seconds": round(report.seconds, 2),
        "ingest_seconds": round(ingest.seconds, 2),
    }


def _table(args: argparse.Namespace, report: ImportReport, ingest: IngestReport) -> Table:
    table = Table(title=f"import {args.format} → {args.group}", title_justify="left")
    table.add_column("")
    table.add_column("count", justify="right")
    table.add_row("messages in the export", f"{report.messages:,}")
    table.add_row("imported (new)", f"{report.imported:,}")
    table.add_row("updated (edited since)", f"{report.updated:,}")
    table.add_row("already archived", f"{report.duplicates:,}", end_section=True)
    for reason, count in sorted(report.skipped.items(), key=lambda item: (-item[1], item[0])):
        table.add_row(f"skipped: {reason}", f"{count:,}")
    table.add_row("days", f"{report.days:,}" + (f" ({report.first} … {report.last})" if report.first else ""),
                  end_section=True)
    table.add_row("day files written", f"{len(report.files):,}")
    for status in (Status.ADDED, Status.REPLACED, Status.FAILED):
        table.add_row(f"days {status.value} in the store", f"{ingest.count(status):,}")
    table.add_row("seconds", f"{report.seconds + ingest.seconds:.2f}")
    return table
