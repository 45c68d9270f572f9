"""Changes to keys that can affect a verification, told to every process's verification cache.

Every such change (delete, roll, rename, purge, expiry, organization deletion; update of
restrictions and leak revocation when they land) runs its transaction as `key_changes()` (in
place of `in_transaction()`) and calls `key_changed(...)` there, naming what it touched. Then:
- this process's cache forgets it before the change answers (at once, and again after the
  commit, since a lookup in between may have read the row as it was), and keeps nothing a lookup
  reads while the change is open;
- PostgreSQL: `pg_notify('keyward_keys', payload)` in the change's own transaction, delivered at
  commit and never for a rollback, heard by each API process's LISTEN connection;
- SQLite: the one-row `key_change` counter is bumped in the same transaction and polled by the
  other processes on the file every 100 ms.
The payload carries the wall-clock time of the change's last statement, just before its commit,
for `keyward_revocation_propagation_seconds`.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from models.entities import ApiKey
from models.key_cache import KeyCache, key_cache_for
from models.sql import is_sqlite

CHANNEL = "keyward_keys"
# NOTIFY payloads must stay under 8,000 bytes: past this many names, say "everything".
MAX_NAMED = 150


@dataclass
class KeyChangeNames:
    """What a change touched: key ids, digests, organizations, a purge's cutoff, or everything."""

    key_ids: set[uuid.UUID] = field(default_factory=set)
    digests: set[str] = field(default_factory=set)
    organization_ids: set[uuid.UUID] = field(default_factory=set)
    expired_before: datetime | None = None
    everything: bool = False
    at: float = 0.0  # wall-clock seconds of the change, carried to the other processes
    pid: int = 0  # the process that made it: it evicted at once and takes no sample

    def encode(self) -> str:
        named = len(self.key_ids) + len(self.digests) + len(self.organization_ids)
        if self.everything or named > MAX_NAMED:
            return json.dumps({"t": self.at, "p": self.pid, "all": True})
        body: dict[str, Any] = {"t": self.at, "p": self.pid}
        if self.key_ids:
            body["k"] = sorted(str(key_id) for key_id in self.key_ids)
        if self.digests:
            body["d"] = sorted(self.digests)
        if self.organization_ids:
            body["o"] = sorted(str(organization_id) for organization_id in self.organization_ids)
        if self.expired_before is not None:
            body["e"] = self.expired_before.isoformat()
        return json.dumps(body, separators=(",", ":"))

    @classmethod
    def decode(cls, payload: str) -> KeyChangeNames:
        """The names in `payload`; anything unreadable means everything."""
        try:
            body = json.loads(payload)
            return cls(
                key_ids={uuid.UUID(key_id) for key_id in body.get("k", ())},
                digests={str(digest) for digest in body.get("d", ())},
                organization_ids={uuid.UUID(o) for o in body.get("o", ())},
                expired_before=datetime.fromisoformat(body["e"]) if "e" in body else None,
                everything=bool(body.get("all", False)),
                at=float(body.get("t", 0.0)),
                pid=int(body.get("p", 0)),
            )
        except (ValueError, TypeError, KeyError, AttributeError):
            return cls(everything=True)

    def named(self) -> bool:
        return bool(
            self.key_ids
            or self.digests
            or self.organization_ids
            or self.everything
            or self.expired_before
        )

    def merge(self, other: KeyChangeNames) -> None:
        self.key_ids |= other.key_ids
        self.digests |= other.digests
        self.organization_ids |= other.organization_ids
        self.everything = self.everything or other.everything
        if other.expired_before is not None:
            earlier = self.expired_before or other.expired_before
            self.expired_before = max(other.expired_before, earlier)

    def apply(self, cache: KeyCache) -> None:
        cache.invalidate(
            key_ids=tuple(self.key_ids),
            digests=tuple(self.digests),
            organization_ids=tuple(self.organization_ids),
            expired_before=self.expired_before,
            everything=self.everything,
        )


@dataclass
class _Open:
    db: BaseDBAsyncClient  # the transaction's connection
    cache: KeyCache | None
    names: KeyChangeNames = field(default_factory=KeyChangeNames)
    changing: bool = False  # whether this change holds the cache's "keep nothing read" guard


_open: ContextVar[_Open | None] = ContextVar("key_changes_open", default=None)


@asynccontextmanager
async def key_changes() -> AsyncIterator[BaseDBAsyncClient]:
    """A transaction for a change to keys, used in place of `in_transaction()`; yields its
    connection. Inside, call `key_changed`. Nested inside another `key_changes()` it joins that
    one; inside a plain transaction it is a savepoint of it."""
    outer = _open.get()
    if outer is not None:
        yield outer.db
        return
    opened: _Open | None = None
    cache = key_cache_for(ApiKey._meta.db)  # before the transaction: its client has none
    try:
        async with in_transaction() as connection:
            opened = _Open(db=connection, cache=cache)
            token = _open.set(opened)
            try:
                yield connection
            finally:
                _open.reset(token)
        if opened.cache is not None and opened.names.named():
            opened.names.apply(opened.cache)  # after the commit: nothing read before it is kept
    finally:
        if opened is not None and opened.cache is not None and opened.changing:
            opened.cache.change_ended()


async def key_changed(
    *,
    key_ids: Iterable[uuid.UUID] = (),
    digests: Iterable[str] = (),
    organization_ids: Iterable[uuid.UUID] = (),
    expired_before: datetime | None = None,
    everything: bool = False,
) -> None:
    """Tell every verification cache that these keys (or all keys of these organizations)
    changed, as part of the open `key_changes()` transaction: evicted here now and again at the
    commit, elsewhere when (and only if) it commits. `expired_before`: every key that expired by
    then may be gone (a purge). The one call every change that can affect a verification makes."""
    opened = _open.get()
    if opened is None:
        raise RuntimeError("key_changed must run inside key_changes()")
    names = KeyChangeNames(
        key_ids=set(key_ids),
        digests=set(digests),
        organization_ids=set(organization_ids),
        expired_before=expired_before,
        everything=everything,
        at=time.time(),
        pid=os.getpid(),
    )
    if not names.named():
        return
    if opened.cache is not None:
        if not opened.changing:
            opened.cache.change_began()
            opened.changing = True
        names.apply(opened.cache)
    opened.names.merge(names)
    if is_sqlite(opened.db):
        await opened.db.execute_query(_BUMP_SQLITE, [names.encode()])
    else:
        await opened.db.execute_query("SELECT pg_notify($1, $2)", [CHANNEL, names.encode()])


# Inserts the row on first use: the table needs no seeding by the migrations.
_BUMP_SQLITE = (
    "INSERT INTO key_change (id, version, names) VALUES (1, 1, ?)"
    " ON CONFLICT (id) DO UPDATE SET version = key_change.version + 1, names = excluded.names"
)
