"""`archive-bot erase --speaker NAME [--group G]`: an operator takes a person's words out of the archive."""

from __future__ import annotations

import argparse
import datetime as dt

from bot.commands.common import config_from


def register(sub: argparse._SubParsersAction) -> None:
    erase = sub.add_parser("erase", help="remove a speaker's messages from the store, indexes, vectors, "
                                         "web pages and published day files (audited, no content kept)")
    erase.add_argument("--speaker", required=True, action="append", metavar="NAME",
                       help="display name as the archive shows it (repeat for several names of one person)")
    erase.add_argument("--group", help="only this group (default: every group)")
    erase.add_argument("--mode", choices=("remove", "marker"), help="overrides erasure.mode")
    erase.set_defaults(func=_erase)


def _erase(args: argparse.Namespace) -> int:
    from bot.erasure import erase
    from bot.store import connect

    config = config_from(args)
    if args.mode:
        config = config.model_copy(update={"erasure": config.erasure.model_copy(update={"mode": args.mode})})
    done = erase(connect(config.store.url), config, set(args.speaker), group=args.group, requested_by="operator",
                 now=dt.datetime.now(dt.timezone.utc))
    print(f"erased {done.archived} archived and {done.live} live messages; "
          f"{len(done.days)} days stored again, {len(done.files)} published day files rewritten")
    return 0
