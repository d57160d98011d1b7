"""Helpers shared by the subcommands: the global options, config loading, dates, clean errors.

Every failure of a command ends as one line on stderr and a non-zero exit (`Failed`, raised here
or by the command, is printed by `bot.cli.main`); tracebacks appear only with `-v`.
"""

from __future__ import annotations

import argparse
import datetime as dt

from bot.config import Config, ConfigError, load_config


class Failed(Exception):
    """A command cannot do what was asked; the message is the one line the user sees."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def global_options() -> argparse.ArgumentParser:
    """Options every command takes, before or after the command's name (`archive-bot --db x stats`
    and `archive-bot stats --db x` are the same). SUPPRESS keeps a later default from erasing a
    value given before the command."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="FILE", default=argparse.SUPPRESS,
                        help="TOML config file (default: embedded defaults)")
    common.add_argument("--db", metavar="PATH|URL", default=argparse.SUPPRESS,
                        help="SQLite file or database URL (overrides store.url)")
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                        help="debug logging, and tracebacks of failures")
    return common


def iso_date(value: str) -> dt.date:
    """The argparse type of every --date: one wording for every command."""
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid date {value!r} (expected an existing day as YYYY-MM-DD)") from None


def config_from(args: argparse.Namespace) -> Config:
    """The validated config, with `--db` applied; a bad config is a `Failed` naming the key."""
    try:
        config = load_config(getattr(args, "config", None))
    except ConfigError as exc:
        raise Failed(str(exc), 2) from None
    if getattr(args, "db", None):
        from bot.store.db import database_url

        try:
            url = database_url(args.db)
        except ValueError as exc:
            raise Failed(str(exc), 2) from None
        config = config.model_copy(update={"store": config.store.model_copy(update={"url": url})})
    return config
