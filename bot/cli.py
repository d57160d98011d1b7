"""archive-bot: answers, search, digests and group rules over a chat group's archive."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

from bot.commands.common import Failed, global_options

# Modules that add subcommands; each has `register(subparsers)` and sets `func` on its parsers.
COMMAND_MODULES = (
    "bot.commands.archive",  # ingest, stats, export
    "bot.commands.answers",  # ask, search
    "bot.commands.server",  # serve, clock
    "bot.commands.jobs",  # digest, names, replay
    "bot.commands.imports",  # import (other platforms' exports)
    "bot.commands.erase",  # erase (a person's words out of the archive)
)

GLOBALS = global_options()


class _WithGlobals(argparse._SubParsersAction):
    """Subcommands (and their own subcommands) accept the global options too."""

    def add_parser(self, name, **kwargs):
        kwargs["parents"] = [*kwargs.get("parents", ()), GLOBALS]
        parser = super().add_parser(name, **kwargs)
        parser.register("action", "parsers", _WithGlobals)
        return parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="archive-bot", description=__doc__, parents=[GLOBALS],
        epilog="Global options may come before or after the command. `archive-bot COMMAND -h` "
               "describes a command.")
    parser.register("action", "parsers", _WithGlobals)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:300] or type(exc).__name__


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    verbose = getattr(args, "verbose", False)
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return int(args.func(args) or 0)
    except Failed as exc:
        print(f"archive-bot: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("archive-bot: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`archive-bot ask - | head`): stop quietly, as `cat` does.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except Exception as exc:  # noqa: BLE001 - the last net: one line, the traceback only with -v
        from sqlalchemy.exc import DBAPIError, ArgumentError

        if verbose:
            logging.getLogger("archive-bot").exception("failed")
        if isinstance(exc, DBAPIError):
            reason = _one_line(exc.orig) if exc.orig is not None else type(exc).__name__
            print(f"archive-bot: cannot use the database: {reason}", file=sys.stderr)
        elif isinstance(exc, ArgumentError):
            print(f"archive-bot: bad database URL: {_one_line(exc)}", file=sys.stderr)
        else:
            print(f"archive-bot: {type(exc).__name__}: {_one_line(exc)}", file=sys.stderr)
        return 1
