"""Housekeeping: make the database match what validity already says, and the job lease.

Validity never waits for these functions: `api_key_verify` refuses a key from its `expires_at`
alone. They only mark and remove rows that are already dead, so each one is idempotent and safe to
run twice or twice at once: every statement re-checks its own condition, and a row claimed by a
concurrent run is simply not counted again. Work goes in batches, each ONE bulk statement over the
ids of at most `batch_size` due rows (`… WHERE id IN (SELECT id … LIMIT n)`); no due row is ever
loaded into Python. The key purge, the one that meets millions of rows, is raw SQL per dialect
and paced differently on each database (see `api_keys_purge_expired`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from tortoise.backends.base.client import BaseDBAsyncClient
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
    batch_size: int | None = None,
    keep_going: KeepGoing | None = None,
) -> int:
    """Delete, digest and all, every key whose `expires_at` is at least `retention_seconds`
    before `now`. Returns how many keys this call deleted. Keys that replaced a purged key keep
    working: their `replaced_by` link is on the purged row, and links to it become NULL.

    `batch_size` caps the rows per statement; by default each database gets its own (see
    `PURGE_POSTGRES_BATCH` and `PURGE_SQLITE_*`). Raw SQL per dialect on tortoise's connection,
    like `models.hot_path`: a queryset costs a subquery join on the primary key per batch."""
    if retention_seconds < 0:
        raise ValueError("retention_seconds must not be negative")
    if batch_size is not None and batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    cutoff = now - timedelta(seconds=retention_seconds)
    db = ApiKey._meta.db
    if db.capabilities.dialect == "sqlite":
        return await _purge_sqlite(db, cutoff, batch_size or PURGE_SQLITE_MAX_BATCH, keep_going)

    size = batch_size or PURGE_POSTGRES_BATCH

    async def batch() -> int:
        count, _ = await db.execute_query(_PURGE_POSTGRES, [cutoff, size])
        return int(count)

    return await _in_batches(batch, keep_going)


# PostgreSQL: rows per DELETE. A DELETE there only stamps the heap tuples (indexes are cleaned
# later by VACUUM) and takes row locks that readers never wait for, so a batch costs the heap
# pages it dirties plus one ON DELETE SET NULL check per row; what batching adds is the
# per-statement overhead. Measured on 1,000,000 expired keys (2 cores, loaded): a single DELETE
# 4.0 s; batches of 1,000 took 5.4 s, 5,000 4.7 s, 20,000 4.2 s. In `python -m bench`, under
# verification load, 5,000 (20-40 ms a statement, far below the 5 s statement timeout) and
# 10,000 were alike within the noise, 1.1-1.3x of one DELETE: the shorter statement wins. No
# pause between statements: verification's p99 stayed at its idle level but for one ~40 ms
# second per purge, at either size (a pause of 0.3x the statement time made the purge 2x slower
# and did not remove it), while the single DELETE under the same load raised it to 120-160 ms.
PURGE_POSTGRES_BATCH = 5_000
# `ctid = ANY(ARRAY(…))` deletes the rows the subquery found by their physical address (a TID
# scan) instead of joining the ids back through the primary-key index: 2x faster per batch
# (1,000,000 keys in batches of 5,000: 4.7 s against 8.8 s with `id IN (SELECT id …)`). A row
# another transaction changed meanwhile has a new ctid and is left for the next batch; the outer
# `expires_at` re-check means a row is deleted only if it is due when deleted.
_PURGE_POSTGRES = (
    "DELETE FROM api_key WHERE ctid = ANY(ARRAY("
    "SELECT ctid FROM api_key WHERE expires_at <= $1 LIMIT $2)) AND expires_at <= $1"
)

# SQLite: statements are sized by time, not rows. Its one write lock serialises every writer,
# verification's `lastUsedAt` writes included, so a statement's duration is added to the latency
# of every verification that writes meanwhile. And the cost per row does not fall much with
# batch size until a batch is tens of thousands of rows: keys are spread at random over the
# digest and id indexes, so each deleted row dirties its own pages in both, which each commit
# writes to the WAL again (100,000 keys: 8.9 s in batches of 500, 3.4 s in batches of 20,000
# holding the lock 730 ms each, 2.2 s in one statement). So each statement aims at
# PURGE_SQLITE_TARGET_SECONDS (the next batch is resized from the last one's measured rate,
# between 1 row and the cap), and the purge then pauses PURGE_SQLITE_PAUSE_RATIO of that time
# so writers waiting on the lock (other processes poll for it; this process's requests queue on
# tortoise's connection lock) get it before the next batch. Measured in `python -m bench`
# (100,000 keys, verification at 500 req/s): 25 ms and 0.5 kept verification's p99 at 1.6-1.7x
# idle in 15.7-18.2 s; 40 ms and 0.3 took 15.7 s but 3.1x; fixed batches of 500 10.6 s, 2.7x;
# the single DELETE 2.4-2.7 s under that load, during which verification stalled (p99 230-370 ms,
# 9-12x idle). Meeting 1.5x the time would take ~20,000-row statements holding the lock ~0.7 s.
PURGE_SQLITE_TARGET_SECONDS = 0.025
PURGE_SQLITE_PAUSE_RATIO = 0.5
PURGE_SQLITE_FIRST_BATCH = 100
PURGE_SQLITE_MAX_BATCH = 5_000
# RETURNING counts the rows this statement deleted; the connection's change counter that
# tortoise reports would also count the ON DELETE SET NULL updates on predecessors' links.
_PURGE_SQLITE = (
    "DELETE FROM api_key WHERE id IN ("
    "SELECT id FROM api_key WHERE expires_at <= ? LIMIT ?) AND expires_at <= ? RETURNING 1"
)


async def _purge_sqlite(
    db: BaseDBAsyncClient, cutoff: datetime, cap: int, keep_going: KeepGoing | None
) -> int:
    size = min(PURGE_SQLITE_FIRST_BATCH, cap)

    async def batch() -> int:
        nonlocal size
        began = time.perf_counter()
        _, rows = await db.execute_query(_PURGE_SQLITE, [cutoff, size, cutoff])
        elapsed = time.perf_counter() - began
        if len(rows) == size:  # a full batch measures the rate; grow at most 2x a step
            wanted = size * PURGE_SQLITE_TARGET_SECONDS / max(elapsed, 1e-4)
            size = max(1, min(cap, 2 * size, round(wanted)))
        await asyncio.sleep(elapsed * PURGE_SQLITE_PAUSE_RATIO)
        return len(rows)

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
