"""Verification analytics, counted in memory and written in bulk.

Every verification of a known key adds one to a counter per (key, hour, outcome) in this process;
`usage_flush` writes them with one upsert per (key, hour, outcome), every `USAGE_FLUSH_SECONDS`
and at shutdown. So the hot path pays a dictionary update, never a write. A crash loses at most one
flush interval of counts, never a key change (the counts are only ever analytics).

A digest that matches no key is remembered the same way, and looked up among the tombstones
(`models.tombstones`) at the flush, all of them in one query per `LOOKUP_CHUNK` digests: the
caller's NOT_FOUND never waits for it. A match is counted as a use of a revoked key, with its last
client address (the verify body's optional `clientIp`). Digests that match no tombstone are
forgotten: they belong to nobody.

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
from tortoise.context import _current_context
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models.audit_entities import KeyTombstone, KeyUsage, RevokedKeyUse
from models.sql import is_sqlite, numbered

log = logging.getLogger("keyward.usage")

# Distinct unknown digests remembered between two flushes: a flood of made-up tokens must not
# grow memory without bound (about 200 bytes each); beyond it, they go unchecked (and logged).
MAX_PENDING_DIGESTS = 20_000
# Digests per tombstone query at the flush (SQLite's bound-parameter limit is far above).
LOOKUP_CHUNK = 500
# Rows per upsert statement: one statement per (key, hour, outcome) row would hold SQLite's write
# lock for a round trip each; 200 rows × 5 parameters stays far under every driver's limit.
ROWS_PER_STATEMENT = 200


@dataclass
class _Revoked:
    count: int
    last_seen_at: datetime
    last_client_address: str | None

    def add(self, other: _Revoked) -> None:
        self.count += other.count
        if other.last_seen_at >= self.last_seen_at:
            self.last_seen_at = other.last_seen_at
            self.last_client_address = other.last_client_address or self.last_client_address


Counts = dict[tuple[uuid.UUID, uuid.UUID, datetime, str], int]
Unknown = dict[tuple[str, frozenset[uuid.UUID] | None, datetime], _Revoked]
Revoked = dict[tuple[uuid.UUID, uuid.UUID, datetime], _Revoked]


@dataclass
class _Pending:
    counts: Counts = field(default_factory=dict)
    unknown: Unknown = field(default_factory=dict)
    dropped: int = 0
    flushing: asyncio.Lock = field(default_factory=asyncio.Lock)


_pending: WeakKeyDictionary[object, _Pending] = WeakKeyDictionary()


def hour_of(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def _state() -> _Pending:
    """This database's pending counts, found by the current tortoise context (a contextvar
    read: `Model._meta.db` costs ten times more, on the hot path)."""
    owner: object = _current_context.get() or KeyUsage._meta.db
    state = _pending.get(owner)
    if state is None:
        state = _pending[owner] = _Pending()
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
    """Count one verification: a dictionary update, no I/O."""
    state = _state()
    if seen.key_id is not None and seen.organization_id is not None:
        bucket = (seen.key_id, seen.organization_id, hour_of(now), seen.outcome)
        state.counts[bucket] = state.counts.get(bucket, 0) + 1
        return
    key = (digest, None if within is None else frozenset(within), hour_of(now))
    use = _Revoked(1, now, client_address)
    current = state.unknown.get(key)
    if current is not None:
        current.add(use)
    elif len(state.unknown) < MAX_PENDING_DIGESTS:
        state.unknown[key] = use
    else:
        state.dropped += 1


async def _revoked_uses(unknown: Unknown) -> Revoked:
    """The unknown digests that are tombstones, as uses of their deleted keys."""
    digests = sorted({digest for digest, _, _ in unknown})
    stones: dict[str, tuple[uuid.UUID, uuid.UUID]] = {}
    for start in range(0, len(digests), LOOKUP_CHUNK):
        rows = await KeyTombstone.filter(
            digest__in=digests[start : start + LOOKUP_CHUNK]
        ).values_list("digest", "key_id", "organization_id")
        for digest, key_id, organization_id in rows:
            stones[str(digest)] = (key_id, organization_id)  # type: ignore[assignment]
    revoked: Revoked = {}
    for (digest, within, hour), use in unknown.items():
        stone = stones.get(digest)
        if stone is None or (within is not None and stone[1] not in within):
            continue
        current = revoked.get((*stone, hour))
        if current is None:
            revoked[(*stone, hour)] = _Revoked(use.count, use.last_seen_at, use.last_client_address)
        else:
            current.add(use)
    return revoked


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


async def _write(counts: Counts, revoked: Revoked) -> None:
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
    async with state.flushing:
        counts, unknown = state.counts, state.unknown
        state.counts, state.unknown = {}, {}
        if state.dropped:
            log.warning("unknown digests not checked (too many at once): %d", state.dropped)
            state.dropped = 0
        if not counts and not unknown:
            return 0
        try:
            revoked = await _revoked_uses(unknown) if unknown else {}
            await _write(counts, revoked)
        except BaseException:
            for bucket, count in counts.items():
                state.counts[bucket] = state.counts.get(bucket, 0) + count
            for key, use in unknown.items():
                state.unknown.setdefault(key, use)
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
