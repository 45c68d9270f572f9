"""Changes to keys that can affect a verification, told to every process's verification cache.

Every such change (delete, roll, purge; later update, restrictions, organization deletion, leak
revocation) runs inside `key_changes()` and calls `key_changed(...)` there, naming what it
touched. Then:
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
    """What a change touched: key ids, digests, a purge's cutoff, or everything."""

    key_ids: set[uuid.UUID] = field(default_factory=set)
    digests: set[str] = field(default_factory=set)
    expired_before: datetime | None = None
    everything: bool = False
    at: float = 0.0  # wall-clock seconds of the change, carried to the other processes
    pid: int = 0  # the process that made it: it evicted at once and takes no sample

    def encode(self) -> str:
        if self.everything or len(self.key_ids) + len(self.digests) > MAX_NAMED:
            return json.dumps({"t": self.at, "p": self.pid, "all": True})
        body: dict[str, Any] = {"t": self.at, "p": self.pid}
        if self.key_ids:
            body["k"] = sorted(str(key_id) for key_id in self.key_ids)
        if self.digests:
            body["d"] = sorted(self.digests)
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
                expired_before=datetime.fromisoformat(body["e"]) if "e" in body else None,
                everything=bool(body.get("all", False)),
                at=float(body.get("t", 0.0)),
                pid=int(body.get("p", 0)),
            )
        except (ValueError, TypeError, KeyError, AttributeError):
            return cls(everything=True)

    def apply(self, cache: KeyCache) -> None:
        cache.invalidate(
            key_ids=tuple(self.key_ids),
            digests=tuple(self.digests),
            expired_before=self.expired_before,
            everything=self.everything,
        )


@dataclass
class _Open:
    db: BaseDBAsyncClient  # the transaction's connection
    cache: KeyCache | None
    names: KeyChangeNames = field(default_factory=KeyChangeNames)


_open: ContextVar[_Open | None] = ContextVar("key_changes_open", default=None)


@asynccontextmanager
async def key_changes() -> AsyncIterator[BaseDBAsyncClient]:
    """A transaction for a change to keys; yields its connection. Inside, call `key_changed`."""
    cache = key_cache_for(ApiKey._meta.db)
    if cache is not None:
        cache.change_began()
    opened: _Open | None = None
    try:
        async with in_transaction() as connection:
            opened = _Open(db=connection, cache=cache)
            token = _open.set(opened)
            try:
                yield connection
            finally:
                _open.reset(token)
        if cache is not None and (opened.names.key_ids or opened.names.digests
                                  or opened.names.everything or opened.names.expired_before):
            opened.names.apply(cache)  # after the commit: nothing read before it is kept
    finally:
        if cache is not None:
            cache.change_ended()


async def key_changed(
    *,
    key_ids: Iterable[uuid.UUID] = (),
    digests: Iterable[str] = (),
    expired_before: datetime | None = None,
    everything: bool = False,
) -> None:
    """Tell every verification cache that these keys changed, as part of the open
    `key_changes()` transaction: evicted here now, elsewhere when (and only if) it commits.
    `expired_before`: every key that expired by then may be gone (a purge)."""
    opened = _open.get()
    if opened is None:
        raise RuntimeError("key_changed must run inside key_changes()")
    names = KeyChangeNames(
        key_ids=set(key_ids),
        digests=set(digests),
        expired_before=expired_before,
        everything=everything,
        at=time.time(),
        pid=os.getpid(),
    )
    if opened.cache is not None:
        names.apply(opened.cache)
    total = opened.names
    total.key_ids |= names.key_ids
    total.digests |= names.digests
    total.everything = total.everything or names.everything
    if expired_before is not None:
        total.expired_before = max(expired_before, total.expired_before or expired_before)
    if is_sqlite(opened.db):
        await opened.db.execute_query(_BUMP_SQLITE, [names.encode()])
    else:
        await opened.db.execute_query("SELECT pg_notify($1, $2)", [CHANNEL, names.encode()])


# Inserts the row on first use: the table needs no seeding by the migrations.
_BUMP_SQLITE = (
    "INSERT INTO key_change (id, version, names) VALUES (1, 1, ?)"
    " ON CONFLICT (id) DO UPDATE SET version = key_change.version + 1, names = excluded.names"
)
