"""The nightly refit of the answer ranker on the group's feedback (bot/refit.py).

Runs where the scheduled jobs run and the answer engine is loaded (`archive-bot serve` with its
scheduler); an adopted model is recorded in the store, and every process loads it at its next start.
"""

from __future__ import annotations

import asyncio

from bot.context import Context
from bot.router import Router

router = Router("refit", order=95)


@router.job("refit", at="refit_time")
async def refit_job(ctx: Context) -> None:
    from bot.refit import refit

    services = ctx.services
    if services.answers is None:
        return
    config = services.config
    result = await asyncio.to_thread(refit, services.db, services.answers, config.feedback.eval_paths,
                                     int(ctx.now.timestamp()))
    ctx.results[("refit", "")] = result
