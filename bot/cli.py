"""The `archive-bot` command. Each group of subcommands lives in its own module with `register`."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

# Modules that add subcommands; each has `register(subparsers)` and sets `func` on its parsers.
COMMAND_MODULES = (
    "bot.commands.archive",  # ingest, stats, export
    "bot.commands.answers",  # ask, search
    "bot.commands.server",  # serve, clock
    "bot.commands.jobs",  # digest, names, replay
    "bot.commands.imports",  # import
    "bot.commands.erase",  # erase
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="archive-bot", description=__doc__)
    parser.add_argument("--config", help="TOML config file (default: embedded defaults)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    return int(args.func(args) or 0)
