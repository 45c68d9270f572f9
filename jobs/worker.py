"""The two ways to run jobs outside the API: `python server.py worker` (the scheduler alone,
until SIGTERM or SIGINT) and `python server.py jobs run JOB` (one run, now, for operators)."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from contextlib import AsyncExitStack
from typing import TextIO

from tortoise.context import TortoiseContext

from jobs.runner import JobRunner
from jobs.scheduler import scheduler_create, scheduler_stop
from models.clock import Clock, utcnow
from models.database import database_close, database_open
from settings import Settings, redact_url
from telemetry.database import database_observed
from telemetry.exposition import metrics_served
from telemetry.metrics import metrics_enable

log = logging.getLogger("keyward.jobs")

# The jobs run one at a time per job: two connections cover both jobs and the lease.
WORKER_POOL_SIZE = 2


async def _database(settings: Settings) -> TortoiseContext:
    return await database_open(
        settings.database_url,
        pool_size=WORKER_POOL_SIZE,
        statement_timeout_ms=settings.db_statement_timeout_ms,
        connect_timeout_ms=settings.db_connect_timeout_ms,
        create_schema=settings.is_sqlite,
    )


async def worker_serve(settings: Settings, *, clock: Clock = utcnow) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    database = await _database(settings)
    try:
        async with AsyncExitStack() as observed:
            if settings.metrics_port is not None:
                metrics_enable()
                await observed.enter_async_context(
                    metrics_served(settings.metrics_host, settings.metrics_port)
                )
            observed.enter_context(database_observed(database))
            runner = JobRunner(settings=settings, database=database, clock=clock)
            scheduler = scheduler_create(runner)
            scheduler.start()
            log.info(
                "worker started: holder=%s interval_s=%d database=%s metrics_port=%s",
                runner.holder,
                runner.interval,
                redact_url(settings.database_url),
                settings.metrics_port or "off",
            )
            await stop.wait()
            log.info("worker stopping: holder=%s", runner.holder)
            await scheduler_stop(scheduler, runner)
    finally:
        await database_close(database)
    log.info("worker stopped")


def worker_run(settings: Settings) -> int:
    asyncio.run(worker_serve(settings))
    return 0


async def job_run_once(
    settings: Settings, job: str, *, clock: Clock = utcnow, out: TextIO = sys.stdout
) -> int:
    database = await _database(settings)
    try:
        run = await JobRunner(settings=settings, database=database, clock=clock).run_now(job)
    finally:
        await database_close(database)
    if run is None:
        print(f"{job}: another worker kept running it; nothing done", file=out)
        return 1
    counts = ", ".join(f"{count} {name.replace('_', ' ')}" for name, count in run.counts.items())
    print(f"{job}: {counts} in {run.duration_seconds * 1000:.0f} ms", file=out)
    return 0
