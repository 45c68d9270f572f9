"""Running one job once: the lease, the database context, stopping between batches, and the
one log line per run. The jobs themselves are in `jobs.housekeeping`.

The lease is what makes several workers safe. A scheduled run leases its job until the end of
the current interval slot (slots are aligned to the Unix epoch, so every worker agrees on them):
the first worker to tick in a slot runs the job, the others find the lease held and skip, and
the next slot is free again. A long run renews the lease between batches, so no second run starts
while it works; a worker that dies holding a lease blocks the job for at most one interval.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tortoise.context import TortoiseContext

from jobs.housekeeping import JOBS, JobEnv
from jobs.metrics import job_failed, job_skipped, job_succeeded, jobs_observed
from models.clock import Clock, utcnow
from models.database import database_entered
from models.job_leases import job_lease_acquire, job_lease_release, job_lease_renew
from settings import Settings

log = logging.getLogger("keyward.jobs")

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class JobRun:
    job: str
    counts: dict[str, int]
    started_at: datetime
    duration_seconds: float
    stopped_early: bool

    def describe(self) -> str:
        """The run as one logfmt line (ids and counts only: a job never sees a token)."""
        counts = " ".join(f"{name}={count}" for name, count in self.counts.items())
        stopped = str(self.stopped_early).lower()
        return (
            f"job={self.job} {counts} duration_ms={self.duration_seconds * 1000:.1f} "
            f"started_at={self.started_at.isoformat()} stopped_early={stopped}"
        )


def slot_end(now: datetime, interval_seconds: int) -> datetime:
    """The end of the epoch-aligned interval slot that contains `now`."""
    slot = math.floor((now - EPOCH).total_seconds() / interval_seconds)
    return EPOCH + timedelta(seconds=(slot + 1) * interval_seconds)


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class JobRunner:
    """Runs jobs inside one database context, as one lease holder; `drain()` stops it cleanly."""

    def __init__(
        self,
        *,
        settings: Settings,
        database: TortoiseContext,
        clock: Clock = utcnow,
        holder: str | None = None,
        batch_size: int | None = None,
    ) -> None:
        self.settings = settings
        self.database = database
        self.clock = clock
        self.holder = holder or holder_name()
        self.batch_size = batch_size
        self.interval = settings.jobs_interval_seconds
        self.stopping = asyncio.Event()
        self._active: set[asyncio.Task[object]] = set()
        jobs_observed(JOBS)

    async def run(self, job: str) -> JobRun | None:
        """The scheduled run: at most one per job per interval slot across all workers.
        None when another worker already ran (or is running) the job in this slot."""
        if self.stopping.is_set():
            return None
        now = self.clock()
        end = slot_end(now, self.interval)
        with database_entered(self.database):
            lease = (end - now).total_seconds()
            if not await job_lease_acquire(
                name=job, holder=self.holder, now=now, lease_seconds=lease
            ):
                log.debug("job=%s skipped: leased elsewhere", job)
                job_skipped(job)
                return None
            return await self._leased(job, now, release_at=end)

    async def run_now(self, job: str, *, wait_seconds: float | None = None) -> JobRun | None:
        """An extra run, now (the operator's `jobs run`): it still never overlaps a running one,
        waiting up to `wait_seconds` (default: one interval) for the lease."""
        deadline = time.monotonic() + (self.interval if wait_seconds is None else wait_seconds)
        with database_entered(self.database):
            while True:
                now = self.clock()
                if await job_lease_acquire(
                    name=job, holder=self.holder, now=now, lease_seconds=self.interval
                ):
                    return await self._leased(job, now, release_at=now)
                if time.monotonic() >= deadline:
                    return None
                await asyncio.sleep(0.2)

    async def _leased(self, job: str, now: datetime, *, release_at: datetime) -> JobRun:
        task = asyncio.current_task()
        if task is not None:
            self._active.add(task)
        stopped = False

        async def keep_going() -> bool:
            nonlocal stopped
            if self.stopping.is_set():
                stopped = True
                return False
            return await job_lease_renew(
                name=job, holder=self.holder, now=self.clock(), lease_seconds=self.interval
            )

        started = time.perf_counter()
        try:
            env = JobEnv(
                settings=self.settings, now=now, keep_going=keep_going, batch_size=self.batch_size
            )
            counts = await JOBS[job](env)
        except Exception as error:
            job_failed(job, seconds=time.perf_counter() - started, error=error)
            # The one line of a failed run (APScheduler logs the traceback); the class name
            # only, so no row value can reach the log.
            log.error(
                "job=%s failed error=%s duration_ms=%.1f started_at=%s holder=%s",
                job,
                type(error).__name__,
                (time.perf_counter() - started) * 1000,
                now.isoformat(),
                self.holder,
            )
            raise
        finally:
            await job_lease_release(
                name=job, holder=self.holder, until=max(release_at, self.clock())
            )
            if task is not None:
                self._active.discard(task)
        run = JobRun(
            job=job,
            counts=counts,
            started_at=now,
            duration_seconds=time.perf_counter() - started,
            stopped_early=stopped,
        )
        job_succeeded(job, seconds=run.duration_seconds, counts=counts, finished_at=self.clock())
        log.info("%s holder=%s", run.describe(), self.holder)
        return run

    async def drain(self, timeout: float) -> None:
        """Stop after the batch in hand: no new batch starts, running ones finish."""
        self.stopping.set()
        active = {task for task in self._active if task is not asyncio.current_task()}
        if active:
            await asyncio.wait(active, timeout=timeout)
