"""`archive-bot ask` and `archive-bot search`: the answer engine from the command line.

With `--archive PATH` (repeatable: a folder of day files or of group folders) the index is built
in memory from those files, lexical only; without it, from the store (`store.url` / `--db`), which
also keeps the texts' words and the units' sentence vectors, so only the first run computes them.
"""

from __future__ import annotations

import argparse
import json
import sys

from bot.commands.common import Failed, config_from


def register(sub: argparse._SubParsersAction) -> None:
    ask = sub.add_parser("ask", help="answer a question from the archive's Q&A")
    ask.add_argument("question", help='the question; "-" reads one question per line from stdin')
    _common(ask)
    ask.set_defaults(func=run_ask)
    search = sub.add_parser("search", help="search every archived message")
    search.add_argument("query")
    search.add_argument("--limit", type=int, default=10, help="at most this many hits (default 10)")
    _common(search)
    search.set_defaults(func=run_search)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--archive", action="append", metavar="PATH",
                        help="index these day files instead of the store (repeatable; lexical only)")
    parser.add_argument("--group", help="only this group's archive")
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def _engine(args: argparse.Namespace):
    from bot.archive.reader import ArchiveError, ReadOptions, read_folder
    from bot.qa.encoder import build_encoder
    from bot.qa.engine import AnswerEngine

    config = config_from(args)
    if args.archive:
        options = ReadOptions.of(config)
        try:
            days, errors = read_folder(args.archive, options)
        except ArchiveError as exc:
            raise Failed(str(exc), 2) from None
        for error in errors:
            print(f"archive-bot: skipped {error}", file=sys.stderr)
        _known_group(args.group, {day.group for day in days})
        return AnswerEngine.from_days(days, config.answer), config  # lexical: vectors live in a store
    from bot.store import queries
    from bot.store.db import connect

    db = connect(config.store.url)
    try:
        _known_group(args.group, set(queries.groups(db)))
        engine = AnswerEngine.from_store(db, config.answer, zone=config.bot.timezone,
                                         encoder=build_encoder(config.encoder))
    finally:
        db.dispose()
    if not engine.days:
        print("archive-bot: the store has no archive days yet; run `archive-bot ingest` or pass --archive PATH",
              file=sys.stderr)
    return engine, config


def _known_group(group: str | None, known: set[str]) -> None:
    if group is not None and known and group not in known:
        raise Failed(f"unknown group {group!r}; known: {', '.join(sorted(known))}", 2)


def run_ask(args: argparse.Namespace) -> int:
    from bot.qa.reply import answer_text, nothing_found_text, related_text

    if not args.question.strip():
        raise Failed("nothing to ask: give a question, or - to read questions from stdin", 2)
    engine, config = _engine(args)
    questions = (line.strip() for line in sys.stdin) if args.question == "-" else [args.question]
    for question in questions:
        if not question:
            continue
        result = engine.ask(question, group=args.group)
        if args.json:
            print(json.dumps(result.to_json(), ensure_ascii=False), flush=True)
        elif result.answered:
            print(answer_text(result, config.bot.public_base_url))
        elif result.suggest:
            print(related_text(result, config.bot.public_base_url))
        else:
            print(nothing_found_text("archive-bot search"))
    return 0


def run_search(args: argparse.Namespace) -> int:
    from bot.qa.reply import search_text

    if args.limit < 1:
        raise Failed("--limit must be at least 1", 2)
    if not args.query.strip():
        raise Failed("nothing to search for: give some words", 2)
    engine, config = _engine(args)
    hits = engine.search(args.query, group=args.group, limit=args.limit)
    if args.json:
        print(json.dumps([hit.to_json() for hit in hits], ensure_ascii=False))
    else:
        print(search_text(hits, args.query, config.bot.public_base_url))
    return 0
