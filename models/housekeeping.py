"""Housekeeping: make the database match what validity already says, and the job lease.

Validity never waits for these functions: `api_key_verify` refuses a key from its `expires_at`
alone. They only mark and remove rows that are already dead, so each one is idempotent and safe to
run twice or twice at once: every statement re-checks its own condition, and a row claimed by a
concurrent run is simply not counted again. Work goes in batches, each ONE bulk statement over the
ids of at most `batch_size` due rows (`… WHERE id IN (SELECT id … LIMIT n)`); no due row is ever
loaded into Python.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Subquery
from tortoise.queryset import QuerySet

from models.entities import ApiKey, JobLease, Session, SignInAttempt

# 500 rows per statement: each statement holds SQLite's single write lock (and, in the API
# process, its one connection) while it runs. Measured on this 2-core machine under load, 87k keys:
# ~80 ms a batch of 500 on SQLite (160 ms at 1,000), so requests queued behind a batch wait well
# under 100 ms; on PostgreSQL at 100k keys, ~25 ms a batch. A backlog of 100,000 keys still clears
# in 200 statements. (Both need the index on api_key.replaced_by_id: without it every deleted key
# costs a full scan, and on PostgreSQL a batch of 500 ran past the 5 s statement timeout.)
BATCH_SIZE = 500

KeepGoing = Callable[[], Awaitable[bool]]
"""Called between batches; returning False stops the run after the batch in hand."""


async def _in_batches(statement: Callable[[], Awaitable[int]], keep_going: KeepGoing | None) -> int:
    """Run `statement` until it touches no row (not merely fewer than a batch: a concurrent run
    may have taken part of ours, and rows may remain) or `keep_going` says stop."""
    total = 0
    while True:
        count = await statement()
        total += count
        if count == 0 or (keep_going is not None and not await keep_going()):
            return total


def _first_ids(
    query: QuerySet[ApiKey] | QuerySet[Session] | QuerySet[SignInAttempt], batch_size: int
) -> Subquery:
    return Subquery(query.limit(batch_size).values_list("id", flat=True))


async def api_keys_expire_rolled(
    *, now: datetime, batch_size: int = BATCH_SIZE, keep_going: KeepGoing | None = None
) -> int:
    """Mark rolled keys whose grace has ended (`expires_at` ≤ `now`) as expired, storing `now`
    in `expired_at`. Returns how many keys this call marked. A key still inside its grace, or
    never rolled, is not touched."""

    def due() -> QuerySet[ApiKey]:
        return ApiKey.filter(rolled_at__not_isnull=True, expired_at=None, expires_at__lte=now)

    async def batch() -> int:
        # The outer `expired_at IS NULL` makes a concurrent run skip rows the other just marked.
        ids = _first_ids(due(), batch_size)
        return await ApiKey.filter(id__in=ids, expired_at=None).update(expired_at=now)

    return await _in_batches(batch, keep_going)


async def api_keys_purge_expired(
    *,
    now: datetime,
    retention_seconds: int,
    batch_size: int = BATCH_SIZE,
    keep_going: KeepGoing | None = None,
) -> int:
    """Delete, digest and all, every key whose `expires_at` is at least `retention_seconds`
    before `now`. Returns how many keys this call deleted. Keys that replaced a purged key keep
    working: their `replaced_by` link is on the purged row, and links to it become NULL."""
    if retention_seconds < 0:
        raise ValueError("retention_seconds must not be negative")
    cutoff = now - timedelta(seconds=retention_seconds)

    async def batch() -> int:
        ids = _first_ids(ApiKey.filter(expires_at__lte=cutoff), batch_size)
        return await ApiKey.filter(id__in=ids).delete()

    return await _in_batches(batch, keep_going)


async def sessions_purge_ended(
    *, now: datetime, batch_size: int = BATCH_SIZE, keep_going: KeepGoing | None = None
) -> int:
    """Delete every session that ended at or before `now`; returns how many."""

    async def batch() -> int:
        ids = _first_ids(Session.filter(expires_at__lte=now), batch_size)
        return await Session.filter(id__in=ids).delete()

    return await _in_batches(batch, keep_going)


async def sign_in_attempts_purge(
    *,
    now: datetime,
    window_seconds: int,
    batch_size: int = BATCH_SIZE,
    keep_going: KeepGoing | None = None,
) -> int:
    """Delete sign-in attempts older than the brute-force window: they no longer count toward
    any limit. Returns how many."""
    since = now - timedelta(seconds=window_seconds)

    async def batch() -> int:
        ids = _first_ids(SignInAttempt.filter(attempted_at__lte=since), batch_size)
        return await SignInAttempt.filter(id__in=ids).delete()

    return await _in_batches(batch, keep_going)


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
