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
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any
from weakref import WeakKeyDictionary

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.context import _current_context
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models.audit_entities import KeyTombstone, KeyUsage
from models.entities import ApiKey
from models.sql import as_uuid, is_sqlite

log = logging.getLogger("keyward.usage")

# Distinct unknown digests remembered between two flushes: a flood of made-up tokens must not
# grow memory without bound (about 200 bytes each); beyond it, they go unchecked (and logged).
MAX_PENDING_DIGESTS = 20_000
# Digests per tombstone query at the flush on SQLite (PostgreSQL: one query over an array).
LOOKUP_CHUNK = 1_000
# Rows per upsert statement: one statement per (key, hour, outcome) would cost a round trip each
# (on SQLite to aiosqlite's thread, under the connection's one lock); one statement for all of
# them held the event loop while its rows were built (16 ms for 3,000 keys in use, every flush,
# which verification's p99 met). 250 rows are built in about a millisecond, and 250 × 5
# parameters stays far under SQLite's 32,766 bound parameters.
ROWS_PER_STATEMENT = 250


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


@dataclass(frozen=True, slots=True)
class Denied:
    """A use refused by a key's restrictions (or that would be, in REPORT_ONLY mode): kept,
    the latest per key, so the owner can allow that address or origin."""

    at: datetime
    reason: str
    address: str | None
    origin: str | None


@dataclass
class _Pending:
    counts: Counts = field(default_factory=dict)
    unknown: Unknown = field(default_factory=dict)
    denied: dict[uuid.UUID, Denied] = field(default_factory=dict)
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
    outcome: str  # VALID, EXPIRED, NOT_FOUND, FORBIDDEN, REPORTED
    denied: Denied | None = None


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
        if seen.denied is not None:
            latest = state.denied.get(seen.key_id)
            if latest is None or latest.at <= seen.denied.at:
                state.denied[seen.key_id] = seen.denied
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
    db = KeyTombstone._meta.db
    select = "SELECT digest, key_id, organization_id FROM key_tombstone WHERE digest"
    if is_sqlite(db):
        chunks = [digests[at : at + LOOKUP_CHUNK] for at in range(0, len(digests), LOOKUP_CHUNK)]
        results = [
            (await db.execute_query(f"{select} IN ({', '.join('?' * len(c))})", c))[1]
            for c in chunks
        ]
    else:
        results = [(await db.execute_query(f"{select} = ANY($1::varchar[])", [digests]))[1]]
    for rows in results:
        for row in rows:
            digest, key_id, organization_id = tuple(row)
            stones[digest] = (as_uuid(key_id), as_uuid(organization_id))
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


def _uuid(db: BaseDBAsyncClient, value: uuid.UUID) -> Any:
    return str(value) if is_sqlite(db) else value


async def _upsert(
    db: BaseDBAsyncClient,
    table: str,
    columns: tuple[str, ...],
    types: tuple[str, ...],
    conflict: str,
    rows: Iterable[tuple[Any, ...]],
) -> None:
    """`count += excluded.count` for each row, `ROWS_PER_STATEMENT` rows a statement
    (PostgreSQL over arrays, SQLite in multi-row VALUES). `rows` is consumed one statement's worth
    at a time, so building them never holds the event loop for more than one statement's rows."""
    insert = f"INSERT INTO {table} ({', '.join(columns)})"
    update = f" ON CONFLICT ({conflict}) DO UPDATE SET count = {table}.count + excluded.count"
    sqlite = is_sqlite(db)
    arrays = ", ".join(f"${n}::{kind}[]" for n, kind in enumerate(types, 1))
    mark = "(" + ", ".join("?" * len(columns)) + ")"
    rows = iter(rows)
    while chunk := list(islice(rows, ROWS_PER_STATEMENT)):
        if sqlite:
            sql = f"{insert} VALUES {', '.join([mark] * len(chunk))}{update}"
            await db.execute_query(sql, [value for row in chunk for value in row])
        else:
            sql = f"{insert} SELECT * FROM unnest({arrays}){update}"
            await db.execute_query(sql, [list(column) for column in zip(*chunk, strict=True)])


async def _write(counts: Counts, revoked: Revoked, denied: dict[uuid.UUID, Denied]) -> None:
    async with in_transaction() as db:
        for key_id, denial in denied.items():
            newer = Q(last_denied_at__isnull=True) | Q(last_denied_at__lte=denial.at)
            await (
                ApiKey.filter(newer, id=key_id)
                .using_db(db)
                .update(
                    last_denied_at=denial.at,
                    last_denied_reason=denial.reason,
                    last_denied_address=denial.address,
                    last_denied_origin=denial.origin,
                )
            )
        await _upsert(
            db,
            "key_usage",
            ("key_id", "organization_id", "hour", "outcome", "count"),
            ("uuid", "uuid", "timestamptz", "varchar", "bigint"),
            "key_id, hour, outcome",
            (
                (_uuid(db, key_id), _uuid(db, organization_id), hour, outcome, count)
                for (key_id, organization_id, hour, outcome), count in counts.items()
            ),
        )
        await _upsert(
            db,
            "revoked_key_use",
            ("key_id", "organization_id", "hour", "count"),
            ("uuid", "uuid", "timestamptz", "bigint"),
            "key_id, hour",
            (
                (_uuid(db, key_id), _uuid(db, organization_id), hour, use.count)
                for (key_id, organization_id, hour), use in revoked.items()
            ),
        )
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
        counts, unknown, denied = state.counts, state.unknown, state.denied
        state.counts, state.unknown, state.denied = {}, {}, {}
        if state.dropped:
            log.warning("unknown digests not checked (too many at once): %d", state.dropped)
            state.dropped = 0
        if not counts and not unknown:
            return 0
        try:
            revoked = await _revoked_uses(unknown) if unknown else {}
            await _write(counts, revoked, denied)
        except BaseException:
            for bucket, count in counts.items():
                state.counts[bucket] = state.counts.get(bucket, 0) + count
            for key, use in unknown.items():
                state.unknown.setdefault(key, use)
            for key_id, denial in denied.items():
                state.denied.setdefault(key_id, denial)
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
