"""The job lease and the runner on top of it: one run per job per interval across workers."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.context import TortoiseContext, get_current_context

from jobs.runner import JobRunner, slot_end
from models.database import database_entered
from models.entities import ApiKey, JobLease
from models.job_leases import job_lease_acquire, job_lease_release, job_lease_renew
from settings import Settings
from tests.harness import Clock
from tests.jobs_support import keys_make, organization_make, second_database

INTERVAL = 60
# The middle of an interval slot, where the scheduler ticks.
MID_SLOT = datetime(2030, 1, 1, 12, 0, 30, tzinfo=UTC)


def _current() -> TortoiseContext:
    context = get_current_context()
    assert context is not None
    return context


async def _race(databases: list[TortoiseContext], holders: int, now: datetime) -> list[bool]:
    async def acquire(index: int) -> bool:
        with database_entered(databases[index % len(databases)]):
            return await job_lease_acquire(
                name="purge-expired", holder=f"worker-{index}", now=now, lease_seconds=INTERVAL
            )

    return list(await asyncio.gather(*(acquire(index) for index in range(holders))))


async def test_one_winner_on_two_connections(
    db: None, clock: Clock, settings: Settings, aiohttp_client: Any
) -> None:
    # given two connections and eight would-be holders, no lease row yet
    databases = [await second_database(settings, aiohttp_client) for _ in range(2)]
    # when they race for the missing row, and again once it has run out
    first = await _race(databases, 8, clock.now)
    again = await _race(databases, 8, clock.now + timedelta(seconds=INTERVAL))
    # then exactly one wins each time
    assert first.count(True) == 1
    assert again.count(True) == 1
    lease = await JobLease.get(name="purge-expired")
    assert lease.holder == f"worker-{again.index(True)}"
    assert lease.lease_until == clock.now + timedelta(seconds=2 * INTERVAL)


async def test_a_held_lease_is_refused_then_renewed_and_released(db: None, clock: Clock) -> None:
    now = clock.now
    assert await job_lease_acquire(name="j", holder="a", now=now, lease_seconds=10)
    assert not await job_lease_acquire(name="j", holder="b", now=now, lease_seconds=10)
    # the holder renews; another holder cannot
    assert await job_lease_renew(
        name="j", holder="a", now=now + timedelta(seconds=5), lease_seconds=10
    )
    assert not await job_lease_renew(name="j", holder="b", now=now, lease_seconds=10)
    assert not await job_lease_acquire(
        name="j", holder="b", now=now + timedelta(seconds=12), lease_seconds=10
    )
    # a release by someone else leaves it alone; the holder's own release frees it
    await job_lease_release(name="j", holder="b", until=now)
    assert not await job_lease_acquire(
        name="j", holder="b", now=now + timedelta(seconds=1), lease_seconds=10
    )
    await job_lease_release(name="j", holder="a", until=now + timedelta(seconds=1))
    assert await job_lease_acquire(
        name="j", holder="b", now=now + timedelta(seconds=1), lease_seconds=10
    )
    # and a lost lease cannot be renewed by its old holder
    assert not await job_lease_renew(
        name="j", holder="a", now=now + timedelta(seconds=2), lease_seconds=10
    )


def _runner(settings: Settings, database: TortoiseContext, clock: Clock, holder: str) -> JobRunner:
    return JobRunner(settings=settings, database=database, clock=clock, holder=holder)


async def test_several_workers_run_a_job_once_per_interval(
    db: None, settings: Settings, aiohttp_client: Any
) -> None:
    # given three workers on their own connections, ticking at the middle of each slot
    clock = Clock(MID_SLOT)
    runners = [
        _runner(settings, await second_database(settings, aiohttp_client), clock, f"w{index}")
        for index in range(3)
    ]
    ran: list[str] = []
    # when every worker ticks in each of five slots (in a different order each time)
    for tick in range(5):
        for runner in runners[tick % 3 :] + runners[: tick % 3]:
            for job in ("expire-rolled", "purge-expired"):
                if await runner.run(job) is not None:
                    ran.append(f"{tick}:{job}:{runner.holder}")
        clock.advance(seconds=INTERVAL)
    # then each job ran exactly once per slot, by the first worker to tick
    assert ran == [
        f"{tick}:{job}:w{tick % 3}"
        for tick in range(5)
        for job in ("expire-rolled", "purge-expired")
    ]


async def test_a_dead_holder_blocks_the_job_for_at_most_one_interval(
    db: None, settings: Settings, aiohttp_client: Any
) -> None:
    # given a worker that took the lease mid-run and died there (its last renewal at `died`)
    clock = Clock(MID_SLOT)
    died = MID_SLOT + timedelta(seconds=20)
    assert await job_lease_acquire(
        name="purge-expired",
        holder="dead",
        now=MID_SLOT,
        lease_seconds=(slot_end(MID_SLOT, INTERVAL) - MID_SLOT).total_seconds(),
    )
    assert await job_lease_renew(
        name="purge-expired", holder="dead", now=died, lease_seconds=INTERVAL
    )
    survivor = _runner(settings, await second_database(settings, aiohttp_client), clock, "alive")
    # when the survivor ticks until it gets the job
    while await survivor.run("purge-expired") is None:
        assert clock.now < died + timedelta(seconds=INTERVAL)
        clock.advance(seconds=5)
    # then it waited no longer than one interval after the dead worker's last sign of life
    assert clock.now <= died + timedelta(seconds=INTERVAL)


async def test_a_stopping_runner_finishes_its_batch_and_starts_no_run(
    db: None, settings: Settings
) -> None:
    # given 12 due keys and a runner asked to stop while its first batch runs
    clock = Clock(MID_SLOT)
    organization = await organization_make(now=clock.now - timedelta(hours=2))
    await keys_make(
        organization,
        12,
        created_at=clock.now - timedelta(hours=2),
        expires_at=clock.now - timedelta(hours=1),
    )
    runner = JobRunner(
        settings=settings, database=_current(), clock=clock, holder="w", batch_size=5
    )
    calls = 0

    def ticking() -> datetime:
        nonlocal calls
        calls += 1
        if calls == 2:  # stop asked as the second batch begins: that batch is finished
            runner.stopping.set()
        return MID_SLOT

    runner.clock = ticking
    # when
    run = await runner.run("purge-expired")
    # then
    assert run is not None and run.stopped_early
    assert run.counts == {
        "api_keys": 10,
        "sessions": 0,
        "sign_in_attempts": 0,
        "audit_events": 0,
        "webhook_deliveries": 0,
    }
    assert await ApiKey.all().count() == 2
    assert await runner.run("purge-expired") is None
