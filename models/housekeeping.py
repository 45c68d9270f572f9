"""Housekeeping: make the database match what validity already says.

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
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from tortoise.backends.base.client import BaseDBAsyncClient, TransactionalDBClient
from tortoise.expressions import Subquery
from tortoise.queryset import QuerySet

from models import expiry
from models.entities import ApiKey, Session, SignInAttempt
from models.key_changes import key_changes
from models.retired_keys import RETURNED, keys_retired
from models.sql import is_sqlite, numbered

# Rows per statement for the marking and the small purges (rolled keys, sessions, sign-in
# attempts): each statement holds SQLite's one write lock while it runs, and 500 keeps that
# under ~100 ms on this size of machine. The key purge sizes its own statements (below).
BATCH_SIZE = 500

KeepGoing = Callable[[], Awaitable[bool]]
"""Called between batches; returning False stops the run after the batch in hand."""


async def _in_batches(statement: Callable[[], Awaitable[int]], keep_going: KeepGoing | None) -> int:
    """Run `statement` until it touches no row (not merely fewer than a batch: a concurrent run
    may have taken part of ours, and rows may remain) or `keep_going` says stop. Each statement
    runs under `_one_at_a_time`."""
    total = 0
    while True:
        count = await _one_at_a_time(statement)
        total += count
        if count == 0 or (keep_going is not None and not await keep_going()):
            return total


# The jobs' statements lock api_key rows (and, through ON DELETE SET NULL, the rows that point
# at them) in whatever order each plan visits them; two jobs in two workers once deadlocked on
# PostgreSQL under roll load. Every housekeeping statement first takes this transaction-level
# advisory lock, so they lock rows one statement at a time, in one order; a deadlock with other
# work (a roll) is retried once, as PostgreSQL advises.
HOUSEKEEPING_LOCK = 0x6B657977  # "keyw"
DEADLOCK_RETRIES = 1


async def _one_at_a_time(statement: Callable[[], Awaitable[int]]) -> int:
    if ApiKey._meta.db.capabilities.dialect == "sqlite":  # one writer at a time already
        return await statement()
    for attempt in range(DEADLOCK_RETRIES + 1):
        try:
            async with key_changes() as connection:
                await connection.execute_query(
                    "SELECT pg_advisory_xact_lock($1)", [HOUSEKEEPING_LOCK]
                )
                return await statement()
        except Exception as error:
            if attempt == DEADLOCK_RETRIES or not deadlocked(error):
                raise
    raise AssertionError("unreachable")


@asynccontextmanager
async def _atomic() -> AsyncIterator[BaseDBAsyncClient]:
    """The current transaction (`_one_at_a_time`'s on PostgreSQL), or a new one (SQLite)."""
    db = ApiKey._meta.db
    if isinstance(db, TransactionalDBClient):
        yield db
        return
    async with key_changes() as connection:
        yield connection


def deadlocked(error: BaseException | None) -> bool:
    """Whether PostgreSQL chose this statement as a deadlock's victim (SQLSTATE 40P01)."""
    for _ in range(8):
        if error is None:
            return False
        if getattr(error, "sqlstate", None) == "40P01":
            return True
        error = error.__cause__ or error.__context__
    return False


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

    async def batch() -> int:
        # The outer `expired_at IS NULL` makes a concurrent run skip rows the other just marked.
        async with _atomic() as db:
            sql = _EXPIRE_ROLLED if is_sqlite(db) else numbered(_EXPIRE_ROLLED)
            rows = await db.execute_query_dict(sql, [now, now, batch_size])
            await keys_retired(rows, action="api_key.expired", now=now, tombstones=False)
            return len(rows)

    return await _in_batches(batch, keep_going)


# Each marked key gets its `api_key.expired` event in the same transaction, hence RETURNING.
_EXPIRE_ROLLED = (
    "UPDATE api_key SET expired_at = ? WHERE id IN ("
    f"SELECT id FROM api_key WHERE {expiry.ended_sql('?')} AND rolled_at IS NOT NULL"
    f" AND expired_at IS NULL LIMIT ?) AND expired_at IS NULL RETURNING {RETURNED}"
)


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
    like `models.key_lookup`: a queryset costs a subquery join on the primary key per batch."""
    if retention_seconds < 0:
        raise ValueError("retention_seconds must not be negative")
    if batch_size is not None and batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    cutoff = now - timedelta(seconds=retention_seconds)
    db = ApiKey._meta.db
    if db.capabilities.dialect == "sqlite":
        return await _purge_sqlite(cutoff, now, batch_size or PURGE_SQLITE_MAX_BATCH, keep_going)

    size = batch_size or PURGE_POSTGRES_BATCH

    async def batch() -> int:
        # Inside `_one_at_a_time` `_atomic` is the locked transaction: the events and tombstones
        # of the deleted keys are written in it.
        async with _atomic() as connection:
            rows = await connection.execute_query_dict(_PURGE_POSTGRES, [cutoff, size])
            await keys_retired(rows, action="api_key.purged", now=now, tombstones=True)
        return len(rows)

    return await _in_batches(batch, keep_going)


# PostgreSQL: rows per DELETE; why 5,000, measured: docs/decisions.md, "Purging on PostgreSQL".
PURGE_POSTGRES_BATCH = 5_000
# By ctid, not id: a TID scan, 2x faster per batch (docs/decisions.md).
_PURGE_POSTGRES = (
    "DELETE FROM api_key WHERE ctid = ANY(ARRAY("
    f"SELECT ctid FROM api_key WHERE {expiry.ended_sql('$1')} LIMIT $2))"
    f" AND {expiry.ended_sql('$1')} RETURNING {RETURNED}"
)

# SQLite: statements are sized by time, not rows: each aims at PURGE_SQLITE_TARGET_SECONDS
# (resized from the last one's measured rate), then the purge pauses PURGE_SQLITE_PAUSE_RATIO of
# that time so writers waiting on the lock get it. Why, measured: docs/decisions.md, "Purging on
# SQLite".
PURGE_SQLITE_TARGET_SECONDS = 0.025
PURGE_SQLITE_PAUSE_RATIO = 0.5
PURGE_SQLITE_FIRST_BATCH = 100
PURGE_SQLITE_MAX_BATCH = 5_000
# RETURNING gives the rows this statement deleted (for their events and tombstones); the
# connection's change counter would also count the ON DELETE SET NULL updates on predecessors.
_PURGE_SQLITE = (
    "DELETE FROM api_key WHERE id IN ("
    f"SELECT id FROM api_key WHERE {expiry.ended_sql('?')} LIMIT ?)"
    f" AND {expiry.ended_sql('?')} RETURNING {RETURNED}"
)


async def _purge_sqlite(
    cutoff: datetime, now: datetime, cap: int, keep_going: KeepGoing | None
) -> int:
    size = min(PURGE_SQLITE_FIRST_BATCH, cap)

    async def batch() -> int:
        nonlocal size
        began = time.perf_counter()
        async with _atomic() as db:
            rows = await db.execute_query_dict(_PURGE_SQLITE, [cutoff, size, cutoff])
            await keys_retired(rows, action="api_key.purged", now=now, tombstones=True)
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
        ids = _first_ids(Session.filter(expiry.ended_q(now)), batch_size)
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
