"""The verification hot path's database work: raw SQL through tortoise's own connection, with
concurrent lookups and `lastUsedAt` writes each coalesced into one statement.

Why not a queryset: building one costs more than the indexed lookup it runs (pypika renders the
SQL anew on every call), and a model instance more again.

Why batches: tortoise's SQLite client runs one statement at a time behind a lock, each a round
trip to aiosqlite's thread, so 32 concurrent verifications queued 32 round trips. Here the
lookups waiting at the same moment share one `WHERE digest IN (…)` (PostgreSQL: `= ANY($1)`),
and the writes share one `UPDATE … WHERE id IN (…)` (group commit). At low load a batch is
one lookup; under load a batch is whatever arrived during the previous one. Each caller still
awaits its own result, so the contract is unchanged: the row is read after the request arrived
(a deletion committed before is seen: revocation stays immediate, there is no cache), and
`lastUsedAt` is written, or has failed, before the verification answers. The conditional WHERE
keeps "at most one write per key per minute" across processes.

Inside a transaction both run directly on the transaction's connection, unbatched.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar
from weakref import WeakKeyDictionary

from tortoise.backends.base.client import BaseDBAsyncClient, TransactionalDBClient

from models.entities import ApiKey, ApiKeyStatus, ApiKeyType, api_key_status

# Items per statement: what queues while one statement runs forms the next batch, so under
# load a batch is about (request rate × statement time); the cap keeps each statement short
# and under SQLite's limit on bound parameters.
MAX_BATCH = 500

_COLUMNS = "digest, id, organization_id, type, name, expires_at, last_used_at"
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
    last_used_at: datetime | None


def _uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(value)


def _moment(value: Any) -> datetime | None:
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _sqlite(db: BaseDBAsyncClient) -> bool:
    return bool(db.capabilities.dialect == "sqlite")


async def _select(db: BaseDBAsyncClient, digests: list[str]) -> dict[str, KeyRow]:
    if _sqlite(db):
        marks = ", ".join("?" * len(digests))
        sql = f"SELECT {_COLUMNS} FROM api_key WHERE digest IN ({marks})"
        _, rows = await db.execute_query(sql, digests)
    else:
        _, rows = await db.execute_query(_SELECT_POSTGRES, [digests])
    found = {}
    for row in rows:
        digest, key_id, organization_id, type_, name, expires_at, last_used_at = tuple(row)
        found[digest] = KeyRow(
            id=_uuid(key_id),
            organization_id=_uuid(organization_id),
            type=type_,
            name=name,
            expires_at=_moment(expires_at),
            last_used_at=_moment(last_used_at),
        )
    return found


async def _write(db: BaseDBAsyncClient, uses: list[tuple[uuid.UUID, datetime, datetime]]) -> None:
    """One UPDATE for the batch, at its earliest use: the uses in one batch lie milliseconds
    apart, and taking the earliest `now` and `since` for all keeps writes a minute apart."""
    now = min(use[1] for use in uses)
    since = min(use[2] for use in uses)
    if _sqlite(db):
        marks = ", ".join("?" * len(uses))
        sql = (
            f"UPDATE api_key SET last_used_at = ? WHERE id IN ({marks})"
            " AND (last_used_at IS NULL OR last_used_at <= ?)"
        )
        await db.execute_query(sql, [now, *(str(use[0]) for use in uses), since])
    else:
        await db.execute_query(_UPDATE_POSTGRES, [now, [use[0] for use in uses], since])


@dataclass(frozen=True, slots=True)
class ApiKeyRow:
    """A listed key as plain data: a page of model instances cost more than its query."""

    id: uuid.UUID
    organization_id: uuid.UUID
    name: str
    type: ApiKeyType
    is_default: bool
    start: str
    token: str | None
    created_at: datetime
    expires_at: datetime | None
    rolled_at: datetime | None
    last_used_at: datetime | None
    replaced_by_id: uuid.UUID | None

    def status(self, now: datetime) -> ApiKeyStatus:
        return api_key_status(self.expires_at, self.rolled_at, now)


_PAGE_COLUMNS = (
    "id, organization_id, name, type, is_default, start, token, created_at, expires_at,"
    " rolled_at, last_used_at, replaced_by_id"
)


def _numbered(sql: str) -> str:
    """`?` placeholders as PostgreSQL's `$1, $2, …`."""
    parts = sql.split("?")
    return parts[0] + "".join(f"${n}{part}" for n, part in enumerate(parts[1:], 1))


async def key_page(
    organization_id: uuid.UUID, after: tuple[datetime, uuid.UUID] | None, limit: int
) -> tuple[list[ApiKeyRow], int]:
    """Up to `limit` of the organization's keys, newest first, strictly after the
    (created_at, id) cursor; and how many keys the organization has in all."""
    db = ApiKey._meta.db
    sqlite = _sqlite(db)
    organization: Any = str(organization_id) if sqlite else organization_id
    where, params = "organization_id = ?", [organization]
    if after is not None:
        created_at, key_id = after[0].astimezone(UTC), after[1]
        where += " AND (created_at < ? OR (created_at = ? AND id < ?))"
        params += [created_at, created_at, str(key_id) if sqlite else key_id]
    page_sql = (
        f"SELECT {_PAGE_COLUMNS} FROM api_key WHERE {where}"
        " ORDER BY created_at DESC, id DESC LIMIT ?"
    )
    count_sql = "SELECT COUNT(*) FROM api_key WHERE organization_id = ?"
    if not sqlite:
        page_sql, count_sql = _numbered(page_sql), _numbered(count_sql)
    _, counted = await db.execute_query(count_sql, [organization])
    _, rows = await db.execute_query(page_sql, [*params, limit])
    keys = [
        ApiKeyRow(
            id=_uuid(key_id),
            organization_id=_uuid(org_id),
            name=name,
            type=ApiKeyType(type_),
            is_default=bool(is_default),
            start=start,
            token=token,
            created_at=_moment(created_at),  # type: ignore[arg-type]
            expires_at=_moment(expires_at),
            rolled_at=_moment(rolled_at),
            last_used_at=_moment(last_used_at),
            replaced_by_id=None if replaced_by_id is None else _uuid(replaced_by_id),
        )
        for (key_id, org_id, name, type_, is_default, start, token, created_at, expires_at,
             rolled_at, last_used_at, replaced_by_id) in (tuple(row) for row in rows)
    ]
    return keys, int(tuple(counted[0])[0])


K = TypeVar("K")
V = TypeVar("V")
R = TypeVar("R")


@dataclass
class _Batcher(Generic[K, V, R]):
    """Coalesces concurrent calls: `run` gets the batch's {key: value} and returns
    {key: result}; a key asked for twice in one batch is done once."""

    run: Callable[[dict[K, V]], Awaitable[dict[K, R]]]
    queue: dict[K, tuple[V, list[asyncio.Future[R | None]]]] = field(default_factory=dict)
    task: asyncio.Task[None] | None = None

    async def __call__(self, key: K, value: V) -> R | None:
        loop = asyncio.get_running_loop()
        if self.task is not None and self.task.get_loop() is not loop:
            self.queue, self.task = {}, None  # a client reused on a new event loop
        waiter: asyncio.Future[R | None] = loop.create_future()
        queued = self.queue.get(key)
        if queued is None:
            self.queue[key] = (value, [waiter])
        else:
            queued[1].append(waiter)
        if self.task is None:
            self.task = asyncio.create_task(self._drain())
        return await waiter

    async def _drain(self) -> None:
        try:
            while self.queue:
                batch = {key: self.queue.pop(key) for key in list(self.queue)[:MAX_BATCH]}
                try:
                    results = await self.run({key: value for key, (value, _) in batch.items()})
                except Exception as error:  # every caller fails as its own statement would have
                    for _, waiters in batch.values():
                        for waiter in waiters:
                            if not waiter.done():
                                waiter.set_exception(error)
                    continue
                for key, (_, waiters) in batch.items():
                    for waiter in waiters:
                        if not waiter.done():
                            waiter.set_result(results.get(key))
        finally:
            self.task = None


@dataclass
class _Batchers:
    lookups: _Batcher[str, None, KeyRow]
    writes: _Batcher[uuid.UUID, tuple[datetime, datetime], None]


_batchers: WeakKeyDictionary[BaseDBAsyncClient, _Batchers] = WeakKeyDictionary()


def _for(db: BaseDBAsyncClient) -> _Batchers:
    batchers = _batchers.get(db)
    if batchers is None:

        async def lookups(digests: dict[str, None]) -> dict[str, KeyRow]:
            return await _select(db, list(digests))

        async def writes(uses: dict[uuid.UUID, tuple[datetime, datetime]]) -> dict[uuid.UUID, None]:
            await _write(db, [(key_id, now, since) for key_id, (now, since) in uses.items()])
            return {}

        batchers = _batchers[db] = _Batchers(_Batcher(lookups), _Batcher(writes))
    return batchers


async def key_by_digest(digest: str) -> KeyRow | None:
    """The key whose token has this SHA-256 digest: an indexed lookup, no model instance."""
    db = ApiKey._meta.db
    if isinstance(db, TransactionalDBClient):
        return (await _select(db, [digest])).get(digest)
    return await _for(db).lookups(digest, None)


async def last_used_record(key_id: uuid.UUID, *, now: datetime, since: datetime) -> None:
    """Record a use of the key at `now` unless one was recorded after `since`; returns once
    written."""
    db = ApiKey._meta.db
    if isinstance(db, TransactionalDBClient):
        await _write(db, [(key_id, now, since)])
        return
    await _for(db).writes(key_id, (now, since))
