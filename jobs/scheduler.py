"""The APScheduler 3.11 setup, shared by the API process (embedded) and the worker.

Each job is registered once under a stable id, with `coalesce=True` and `max_instances=1`. The
trigger fires in the middle of each epoch-aligned interval slot, so every worker ticks at the same
instants, well away from the slot boundaries the lease is cut on (see `jobs.runner`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from tortoise.context import TortoiseContext

from jobs.housekeeping import JOBS
from jobs.runner import EPOCH, JobRunner
from models.clock import Clock, utcnow
from settings import Settings

# How long stopping waits for a run to finish its batch in hand: one batch takes milliseconds,
# and the worker must be gone within a few seconds of SIGTERM.
STOP_TIMEOUT_SECONDS = 5.0


def scheduler_create(runner: JobRunner) -> AsyncIOScheduler:
    interval = runner.interval
    # The runner logs one line per run; APScheduler's own two lines per tick would bury it.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    scheduler = AsyncIOScheduler(timezone="UTC")
    for job in JOBS:
        scheduler.add_job(
            runner.run,
            IntervalTrigger(
                seconds=interval,
                start_date=EPOCH + timedelta(seconds=interval / 2),
                timezone="UTC",
            ),
            args=[job],
            id=job,
            name=job,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            # A tick late by less than half an interval still lands in its own slot.
            misfire_grace_time=max(1, interval // 2),
        )
    return scheduler


async def scheduler_stop(scheduler: AsyncIOScheduler, runner: JobRunner) -> None:
    """Stop ticking, let runs finish the batch in hand, then shut down. (APScheduler's own
    shutdown cancels running coroutine jobs mid-statement, so it comes last.)"""
    scheduler.pause()
    await runner.drain(timeout=STOP_TIMEOUT_SECONDS)
    scheduler.shutdown(wait=False)
    await asyncio.sleep(0)  # AsyncIOScheduler.shutdown is scheduled on the loop


def scheduler_context(
    settings: Settings,
    *,
    database: web.AppKey[TortoiseContext],
    clock: Clock = utcnow,
) -> Callable[[web.Application], AsyncIterator[None]]:
    """A `cleanup_ctx` running the jobs inside the API process. Register it after the
    database's: it uses the context stored under `database`."""

    async def jobs_scheduler(app: web.Application) -> AsyncIterator[None]:
        runner = JobRunner(settings=settings, database=app[database], clock=clock)
        scheduler = scheduler_create(runner)
        scheduler.start()
        try:
            yield
        finally:
            await scheduler_stop(scheduler, runner)

    return jobs_scheduler
