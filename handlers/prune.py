"""The store's answering records pruned: old reply rows and expired question cool-downs.

A posting job (it runs wherever the scheduled posts run: `serve` with its scheduler, or the
`clock`); two processes running it at once only delete the same rows (bot/store/limits_pruning.py).
"""

from __future__ import annotations

import asyncio
import logging

from bot.context import Context
from bot.router import Router
from bot.store.limits_pruning import prune_limits

log = logging.getLogger(__name__)
router = Router("prune")

PRUNE_SECONDS = 300  # between runs: what a run deletes is five minutes of replies and cool-downs


@router.job("prune-limits", every=PRUNE_SECONDS)
async def prune_job(ctx: Context) -> None:
    """Delete reply rows and cool-downs that the limits no longer read."""
    pruned = await asyncio.to_thread(prune_limits, ctx.services.db, ctx.now_ts(),
                                     ctx.config.answer.cooldown_seconds)
    ctx.results[("prune-limits", "")] = pruned
    if any(pruned):
        log.debug("pruned %d reply rows, %d keyed reply rows, %d cool-downs", *pruned)
