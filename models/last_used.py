"""The verification hot path's database work, in raw SQL through tortoise's own connection.

Building a queryset costs more than the indexed lookup it runs (pypika renders the SQL anew on
every call), so `key_by_digest` sends a prepared text with the dialect's placeholder and converts
the few columns itself.

`last_used_record` coalesces `lastUsedAt` writes: every verification that has to write joins the
next batch, and one `executemany` in one transaction writes the whole batch (group commit). The
caller still awaits its own write, so the contract is unchanged (the write is done, or has
failed, when the verification answers); under load N writes cost one commit instead of N. The
conditional WHERE keeps "at most one write per key per minute" across processes.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from weakref import WeakKeyDictionary

from tortoise.backends.base.client import BaseDBAsyncClient, TransactionalDBClient

from models.entities import ApiKey

log = logging.getLogger("keyward.last_used")

# Rows per UPDATE batch: the writes that queue while one batch commits form the next, so under
# load a batch is about (request rate × commit time); the cap keeps one transaction short.
MAX_BATCH = 500

_COLUMNS = "id, organization_id, type, name, expires_at, last_used_at"
_SELECT = {
    "sqlite": f"SELECT {_COLUMNS} FROM api_key WHERE digest = ?",
    "postgres": f"SELECT {_COLUMNS} FROM api_key WHERE digest = $1",
}
_UPDATE = {
    "sqlite": "UPDATE api_key SET last_used_at = ? WHERE id = ?"
    " AND (last_used_at IS NULL OR last_used_at <= ?)",
    "postgres": "UPDATE api_key SET last_used_at = $1 WHERE id = $2"
    " AND (last_used_at IS NULL OR last_used_at <= $3)",
}


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


def _dialect(db: BaseDBAsyncClient) -> str:
    return "sqlite" if db.capabilities.dialect == "sqlite" else "postgres"


def _param(db: BaseDBAsyncClient, value: uuid.UUID) -> uuid.UUID | str:
    return str(value) if db.capabilities.dialect == "sqlite" else value


async def key_by_digest(digest: str) -> KeyRow | None:
    """The key whose token has this SHA-256 digest: one indexed lookup, no model instance."""
    db = ApiKey._meta.db
    _, rows = await db.execute_query(_SELECT[_dialect(db)], [digest])
    if not rows:
        return None
    key_id, organization_id, type_, name, expires_at, last_used_at = tuple(rows[0])
    return KeyRow(
        id=_uuid(key_id),
        organization_id=_uuid(organization_id),
        type=type_,
        name=name,
        expires_at=_moment(expires_at),
        last_used_at=_moment(last_used_at),
    )


@dataclass
class _Writer:
    db: BaseDBAsyncClient
    queue: dict[uuid.UUID, tuple[datetime, datetime, list[asyncio.Future[None]]]] = field(
        default_factory=dict
    )
    task: asyncio.Task[None] | None = None

    async def record(self, key_id: uuid.UUID, now: datetime, since: datetime) -> None:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queued = self.queue.get(key_id)
        if queued is None:
            self.queue[key_id] = (now, since, [waiter])
        else:
            queued[2].append(waiter)  # the same key twice in one batch: one write
        if self.task is None:
            self.task = asyncio.create_task(self._drain())
        await waiter

    async def _drain(self) -> None:
        try:
            while self.queue:
                keys = list(self.queue)[:MAX_BATCH]
                batch = [(key_id, *self.queue.pop(key_id)) for key_id in keys]
                try:
                    await _write(self.db, [(key_id, now, since) for key_id, now, since, _ in batch])
                except Exception as error:  # each waiter fails as its own write would have
                    for *_, waiters in batch:
                        for waiter in waiters:
                            if not waiter.done():
                                waiter.set_exception(error)
                else:
                    for *_, waiters in batch:
                        for waiter in waiters:
                            if not waiter.done():
                                waiter.set_result(None)
        finally:
            self.task = None


_writers: WeakKeyDictionary[BaseDBAsyncClient, _Writer] = WeakKeyDictionary()


async def _write(db: BaseDBAsyncClient, uses: list[tuple[uuid.UUID, datetime, datetime]]) -> None:
    rows = [[now, _param(db, key_id), since] for key_id, now, since in uses]
    if len(rows) == 1:
        await db.execute_query(_UPDATE[_dialect(db)], rows[0])
    else:
        await db.execute_many(_UPDATE[_dialect(db)], rows)


async def last_used_record(key_id: uuid.UUID, *, now: datetime, since: datetime) -> None:
    """Record a use of the key at `now` unless one was recorded after `since`; returns once
    written. Inside a transaction the write joins that transaction instead."""
    db = ApiKey._meta.db
    if isinstance(db, TransactionalDBClient):
        await _write(db, [(key_id, now, since)])
        return
    writer = _writers.get(db)
    if writer is None:
        writer = _writers[db] = _Writer(db)
    await writer.record(key_id, now, since)
