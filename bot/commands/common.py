"""Helpers shared by the subcommands: config loading and the `--db` override."""

from __future__ import annotations

import argparse
import sys

from bot.config import Config, ConfigError, load_config


def add_db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", help="SQLite file or database URL (overrides store.url)")


def _configure_logging(config: Config, verbose: bool) -> None:
    """The log lines' shape (`log.format`: text, kv or json) and level (-v means debug)."""
    import logging

    from bot.metrics import configure_logging

    configure_logging(config.log.format, logging.DEBUG if verbose else getattr(logging, config.log.level.upper()))


def config_from(args: argparse.Namespace) -> Config:
    """The validated config, with `--db` applied; exits with the error that names the bad key."""
    try:
        config = load_config(getattr(args, "config", None))
    except ConfigError as exc:
        print(f"archive-bot: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    _configure_logging(config, verbose=getattr(args, "verbose", False))
    if getattr(args, "db", None):
        from bot.store.db import database_url

        config = config.model_copy(update={"store": config.store.model_copy(update={"url": database_url(args.db)})})
    return config
