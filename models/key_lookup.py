"""The verification lookup, the hot path's database work: raw SQL through tortoise's own
connection (see `models.sql`), with concurrent lookups and `lastUsedAt` writes each coalesced
into one statement (see `models.batching`).

Why not a queryset: building one costs more than the indexed lookup it runs (pypika renders the
SQL anew on every call), and a model instance more again.

Why batches: tortoise's SQLite client runs one statement at a time behind a lock, each a round
trip to aiosqlite's thread, so 32 concurrent verifications queued 32 round trips. Here the
lookups waiting at the same moment share one `WHERE digest IN (…)` (PostgreSQL: `= ANY($1)`),
and the writes share one `UPDATE … WHERE id IN (…)` (group commit). At low load a batch is
one lookup; under load a batch is whatever arrived during the previous one. Each caller still
awaits its own result, so the contract is unchanged: the row is read after the request arrived
(a deletion committed before is seen: revocation stays immediate).

`lastUsedAt` writes are queued and the verification answers without waiting for them (a write
that must wait for SQLite's one connection, or for a lock another process holds, no longer holds
the answer). A failed write is logged and the key's next use tries again. Reads of `lastUsedAt`
in this process wait for the writes queued before them (`last_used_settled`, at the start of
every GraphQL request), so a verification followed by a read still shows the use. The
conditional WHERE keeps "at most one write per key per minute" across processes.

Inside a transaction both run directly on the transaction's connection, unbatched and awaited.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from weakref import WeakKeyDictionary

from tortoise.backends.base.client import BaseDBAsyncClient, TransactionalDBClient

from models.batching import Batcher
from models.entities import ApiKey
from models.sql import as_moment, as_uuid, is_sqlite
from models.sqlite_readers import reader_for

_COLUMNS = (
    "digest, id, organization_id, type, name, expires_at, rolled_at, last_used_at,"
    " allowed_cidrs, allowed_origins, restriction_mode"
)
_SELECT_POSTGRES = f"SELECT {_COLUMNS} FROM api_key WHERE digest = ANY($1::varchar[])"
_UPDATE_POSTGRES = (
    "UPDATE api_key SET last_used_at = $1 WHERE id = ANY($2::uuid[])"
    " AND (last_used_at IS NULL OR last_used_at <= $3)"
)


@dataclass(frozen=True, slots=True)
class KeyRow:
    id: uuid.UUID
    organization_id: uuid.UUID
    type: str
    name: str
    expires_at: datetime | None
    rolled_at: datetime | None
    last_used_at: datetime | None
    # The restrictions as stored JSON text (`models.restrictions.restrictions_of` parses and
    # caches them by it), so whoever caches this row caches them too.
    allowed_cidrs: str | None = None
    allowed_origins: str | None = None
    restriction_mode: str = "ENFORCE"


def _json_text(value: object) -> str | None:
    """A JSON column as text: SQLite and asyncpg return text, a driver codec may decode it."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


async def _select(db: BaseDBAsyncClient, digests: list[str]) -> dict[str, KeyRow]:
    if is_sqlite(db):
        marks = ", ".join("?" * len(digests))
        sql = f"SELECT {_COLUMNS} FROM api_key WHERE digest IN ({marks})"
        _, rows = await db.execute_query(sql, digests)
    else:
        _, rows = await db.execute_query(_SELECT_POSTGRES, [digests])
    found = {}
    for row in rows:
        (
            digest,
            key_id,
            organization_id,
            type_,
            name,
            expires_at,
            rolled_at,
            last_used_at,
            cidrs,
            origins,
            mode,
        ) = tuple(row)
        found[digest] = KeyRow(
            id=as_uuid(key_id),
            organization_id=as_uuid(organization_id),
            type=type_,
            name=name,
            expires_at=as_moment(expires_at),
            rolled_at=as_moment(rolled_at),
            last_used_at=as_moment(last_used_at),
            allowed_cidrs=_json_text(cidrs),
            allowed_origins=_json_text(origins),
            restriction_mode=mode or "ENFORCE",
        )
    return found


async def _write(db: BaseDBAsyncClient, uses: list[tuple[uuid.UUID, datetime, datetime]]) -> None:
    """One UPDATE for the batch, at its earliest use: the uses in one batch lie milliseconds
    apart, and taking the earliest `now` and `since` for all keeps writes a minute apart."""
    now = min(use[1] for use in uses)
    since = min(use[2] for use in uses)
    if is_sqlite(db):
        marks = ", ".join("?" * len(uses))
        sql = (
            f"UPDATE api_key SET last_used_at = ? WHERE id IN ({marks})"
            " AND (last_used_at IS NULL OR last_used_at <= ?)"
        )
        await db.execute_query(sql, [now, *(str(use[0]) for use in uses), since])
    else:
        await db.execute_query(_UPDATE_POSTGRES, [now, [use[0] for use in uses], since])


@dataclass
class _Batchers:
    lookups: Batcher[str, None, KeyRow]
    writes: Batcher[uuid.UUID, tuple[datetime, datetime], None]
    # A key's write queued or running, by its future (one left by a closed loop does not count).
    writing: dict[uuid.UUID, asyncio.Future[None]] = field(default_factory=dict)


_batchers: WeakKeyDictionary[BaseDBAsyncClient, _Batchers] = WeakKeyDictionary()
log = logging.getLogger("keyward.verification")


def _for(db: BaseDBAsyncClient) -> _Batchers:
    batchers = _batchers.get(db)
    if batchers is None:

        async def lookups(digests: dict[str, None]) -> dict[str, KeyRow]:
            return await _select(await reader_for(db), list(digests))

        async def writes(uses: dict[uuid.UUID, tuple[datetime, datetime]]) -> dict[uuid.UUID, None]:
            await _write(db, [(key_id, now, since) for key_id, (now, since) in uses.items()])
            return {}

        batchers = _batchers[db] = _Batchers(Batcher(lookups), Batcher(writes))
    return batchers


async def key_by_digest(digest: str) -> KeyRow | None:
    """The key whose token has this SHA-256 digest: an indexed lookup, no model instance."""
    db = ApiKey._meta.db
    if isinstance(db, TransactionalDBClient):
        return (await _select(db, [digest])).get(digest)
    return await _for(db).lookups(digest, None)


async def last_used_record(
    key_id: uuid.UUID,
    *,
    now: datetime,
    since: datetime,
    recorded: Callable[[], None] | None = None,
) -> None:
    """Record a use of the key at `now` unless one was recorded after `since`. Outside a
    transaction the write is queued and this returns at once: `recorded` is called once it is
    written; a failure is logged (the key's next use tries again). A write already queued for the
    key stands for this one."""
    db = ApiKey._meta.db
    if isinstance(db, TransactionalDBClient):
        await _write(db, [(key_id, now, since)])
        if recorded is not None:
            recorded()
        return
    batchers = _for(db)
    queued = batchers.writing.get(key_id)
    if queued is not None and not queued.done() and queued.get_loop() is asyncio.get_running_loop():
        return
    written = batchers.writes.submit(key_id, (now, since))
    batchers.writing[key_id] = written
    written.add_done_callback(lambda done: _written(done, batchers.writing, key_id, recorded))


def _written(
    done: asyncio.Future[None],
    writing: dict[uuid.UUID, asyncio.Future[None]],
    key_id: uuid.UUID,
    recorded: Callable[[], None] | None,
) -> None:
    if writing.get(key_id) is done:
        del writing[key_id]
    if done.cancelled():
        return
    error = done.exception()
    if error is not None:
        log.warning("lastUsedAt write failed (the key's next use tries again): %r", error)
    elif recorded is not None:
        recorded()


async def last_used_settled() -> None:
    """Returns once the `lastUsedAt` writes this process queued before the call are done."""
    db = ApiKey._meta.db
    batchers = None if isinstance(db, TransactionalDBClient) else _batchers.get(db)
    if batchers is not None:
        await batchers.writes.settled()
