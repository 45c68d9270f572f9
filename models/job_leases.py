"""The job lease: one row per scheduled job, so several workers run each job once per interval.

APScheduler 3 has nothing that stops two scheduler processes both running a job each tick, and
an advisory lock only stops them running at the same time; a lease row moved forward by a
conditional UPDATE that exactly one worker wins gives one run per tick.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from tortoise.exceptions import IntegrityError

from models.entities import JobLease


async def job_lease_acquire(*, name: str, holder: str, now: datetime, lease_seconds: float) -> bool:
    """Take the lease on job `name` until `now + lease_seconds`, if nobody holds it at `now`.

    One conditional UPDATE (`… WHERE lease_until <= now`): however many workers race, the
    database lets exactly one of them move `lease_until` forward. A missing row is inserted; if
    two workers insert at once the primary key lets one in and the other loses. A holder that
    dies keeps the job only until its lease ends."""
    until = now + timedelta(seconds=lease_seconds)
    won = await JobLease.filter(name=name, lease_until__lte=now).update(
        lease_until=until, holder=holder, last_run_at=now
    )
    if won:
        return True
    if await JobLease.exists(name=name):
        return False
    try:
        await JobLease.create(name=name, lease_until=until, holder=holder, last_run_at=now)
    except IntegrityError:
        return False
    return True


async def job_lease_renew(*, name: str, holder: str, now: datetime, lease_seconds: float) -> bool:
    """Extend a lease `holder` still holds to at least `now + lease_seconds`; False if it was
    lost (it ran out and another worker took it)."""
    until = now + timedelta(seconds=lease_seconds)
    held = JobLease.filter(name=name, holder=holder, lease_until__gt=now)
    if await held.filter(lease_until__lt=until).update(lease_until=until):
        return True
    return await held.exists()


async def job_lease_release(*, name: str, holder: str, until: datetime) -> None:
    """End `holder`'s lease at `until` (now, or later to keep others out until then); a lease
    that has meanwhile passed to another holder is left alone."""
    await JobLease.filter(name=name, holder=holder).update(lease_until=until)
