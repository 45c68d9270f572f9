"""Verification analytics, counted in memory and written in bulk.

Every verification of a known key adds one to a counter per (key, hour, outcome) in this process;
`usage_flush` writes them with one upsert per (key, hour, outcome), every `USAGE_FLUSH_SECONDS`
and at shutdown. So the hot path pays a dictionary update, never a write. A crash loses at most one
flush interval of counts, never a key change (the counts are only ever analytics).

A digest that matches no key is looked up among the tombstones (`models.tombstones`), off the
request's path: the caller's NOT_FOUND does not wait for it. A match is counted as a use of a
revoked key, with its last client address (the verify body's optional `clientIp`). Unknown
digests are not recorded: they belong to nobody.

State is kept per database connection (like `models.key_lookup`'s batchers), so two apps in one
process (tests) never mix their counts.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from weakref import WeakKeyDictionary

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models.audit_entities import KeyTombstone, KeyUsage, RevokedKeyUse
from models.sql import is_sqlite, numbered

log = logging.getLogger("keyward.usage")

DEFAULT_FLUSH_SECONDS = 5
# Tombstone lookups in flight at once: a flood of unknown tokens must not grow memory without
# bound; beyond this, uses of revoked keys go uncounted (and are logged at the next flush).
MAX_PENDING_LOOKUPS = 256
# Rows per upsert statement: one statement per (key, hour, outcome) row would hold SQLite's write
# lock for a round trip each; 200 rows × 5 parameters stays far under every driver's limit.
ROWS_PER_STATEMENT = 200


@dataclass
class _Revoked:
    count: int
    last_seen_at: datetime
    last_client_address: str | None


@dataclass
class _Pending:
    counts: dict[tuple[uuid.UUID, uuid.UUID, datetime, str], int] = field(default_factory=dict)
    revoked: dict[tuple[uuid.UUID, uuid.UUID, datetime], _Revoked] = field(default_factory=dict)
    lookups: set[asyncio.Task[None]] = field(default_factory=set)
    dropped: int = 0


_pending: WeakKeyDictionary[BaseDBAsyncClient, _Pending] = WeakKeyDictionary()


@dataclass(frozen=True, slots=True)
class Tombstone:
    key_id: uuid.UUID
    organization_id: uuid.UUID


def hour_of(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


async def tombstone_find(digest: str) -> Tombstone | None:
    rows = await KeyTombstone.filter(digest=digest).values("key_id", "organization_id")
    if not rows:
        return None
    return Tombstone(key_id=rows[0]["key_id"], organization_id=rows[0]["organization_id"])


def _state() -> _Pending:
    db = KeyUsage._meta.db
    db = getattr(db, "_parent", db)  # a transaction's counts belong to its pool
    state = _pending.get(db)
    if state is None:
        state = _pending[db] = _Pending()
    return state


@dataclass(frozen=True, slots=True)
class Seen:
    """What a verification found: a key (with its organization and outcome), or no key."""

    key_id: uuid.UUID | None
    organization_id: uuid.UUID | None
    outcome: str  # VALID, EXPIRED, NOT_FOUND


def verification_seen(
    *,
    digest: str,
    seen: Seen,
    now: datetime,
    within: Collection[uuid.UUID] | None,
    client_address: str | None,
) -> None:
    """Count one verification (no I/O on the caller's path)."""
    state = _state()
    if seen.key_id is not None and seen.organization_id is not None:
        bucket = (seen.key_id, seen.organization_id, hour_of(now), seen.outcome)
        state.counts[bucket] = state.counts.get(bucket, 0) + 1
        return
    if len(state.lookups) >= MAX_PENDING_LOOKUPS:
        state.dropped += 1
        return
    task = asyncio.get_running_loop().create_task(
        _revoked_use(state, digest, now, within, client_address)
    )
    state.lookups.add(task)
    task.add_done_callback(state.lookups.discard)


async def _revoked_use(
    state: _Pending,
    digest: str,
    now: datetime,
    within: Collection[uuid.UUID] | None,
    client_address: str | None,
) -> None:
    try:
        stone = await tombstone_find(digest)
    except Exception as error:  # analytics never fail a request, nor leave a task unretrieved
        log.warning("tombstone lookup failed: %r", error)
        return
    if stone is None or (within is not None and stone.organization_id not in within):
        return
    bucket = (stone.key_id, stone.organization_id, hour_of(now))
    current = state.revoked.get(bucket)
    if current is None:
        state.revoked[bucket] = _Revoked(1, now, client_address)
    else:
        current.count += 1
        if now >= current.last_seen_at:
            current.last_seen_at = now
            current.last_client_address = client_address or current.last_client_address


def _values(model: Any, column: str, value: Any) -> Any:
    return model._meta.fields_map[column].to_db_value(value, model)


async def _upsert(
    db: BaseDBAsyncClient, table: str, columns: tuple[str, ...], conflict: str, rows: list[Any]
) -> None:
    for start in range(0, len(rows), ROWS_PER_STATEMENT):
        chunk = rows[start : start + ROWS_PER_STATEMENT]
        marks = ", ".join("(" + ", ".join("?" * len(columns)) + ")" for _ in chunk)
        sql = (
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES {marks}"
            f" ON CONFLICT ({conflict}) DO UPDATE SET count = {table}.count + excluded.count"
        )
        params = [value for row in chunk for value in row]
        await db.execute_query(sql if is_sqlite(db) else numbered(sql), params)


async def _write(
    counts: dict[tuple[uuid.UUID, uuid.UUID, datetime, str], int],
    revoked: dict[tuple[uuid.UUID, uuid.UUID, datetime], _Revoked],
) -> None:
    async with in_transaction() as db:
        rows = [
            [
                _values(KeyUsage, "key_id", key_id),
                _values(KeyUsage, "organization_id", organization_id),
                _values(KeyUsage, "hour", hour),
                outcome,
                count,
            ]
            for (key_id, organization_id, hour, outcome), count in counts.items()
        ]
        columns = ("key_id", "organization_id", "hour", "outcome", "count")
        await _upsert(db, "key_usage", columns, "key_id, hour, outcome", rows)
        rows = [
            [
                _values(RevokedKeyUse, "key_id", key_id),
                _values(RevokedKeyUse, "organization_id", organization_id),
                _values(RevokedKeyUse, "hour", hour),
                use.count,
            ]
            for (key_id, organization_id, hour), use in revoked.items()
        ]
        await _upsert(
            db, "revoked_key_use", ("key_id", "organization_id", "hour", "count"), "key_id, hour",
            rows,
        )  # fmt: skip
        for (key_id, _, _), use in sorted(revoked.items(), key=lambda item: item[1].last_seen_at):
            stale = Q(last_seen_at__isnull=True) | Q(last_seen_at__lte=use.last_seen_at)
            await (
                KeyTombstone.filter(stale, key_id=key_id)
                .using_db(db)
                .update(last_seen_at=use.last_seen_at, last_client_address=use.last_client_address)
            )


async def usage_flush() -> int:
    """Write this process's counts for the current database; returns how many rows it wrote.
    On failure the counts are kept for the next flush."""
    state = _state()
    if state.lookups:
        await asyncio.gather(*list(state.lookups), return_exceptions=True)
    counts, revoked = state.counts, state.revoked
    state.counts, state.revoked = {}, {}
    if state.dropped:
        log.warning("uses of revoked keys not counted (too many lookups): %d", state.dropped)
        state.dropped = 0
    if not counts and not revoked:
        return 0
    try:
        await _write(counts, revoked)
    except BaseException:
        for bucket, count in counts.items():
            state.counts[bucket] = state.counts.get(bucket, 0) + count
        for key, use in revoked.items():
            state.revoked.setdefault(key, use)
        raise
    return len(counts) + len(revoked)


async def usage_flush_forever(interval_seconds: float) -> None:
    """Flush every `interval_seconds` until cancelled (the API process's background task)."""
    while True:
        await asyncio.sleep(interval_seconds)
        try:
            await usage_flush()
        except Exception as error:
            log.warning("usage flush failed, counts kept for the next one: %r", error)
