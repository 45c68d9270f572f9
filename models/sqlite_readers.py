"""On SQLite, verification reads through a connection of its own.

tortoise's SQLite client is one connection behind one lock: while any statement of this process
waits for another process's write lock (up to the busy timeout), every other statement of the
process queues behind it, reads included, although in WAL mode a read never needs that lock.
The verification lookup (the hot path, read-only) therefore gets its own connection to the same
file: it answers while a write of the same process waits. Opened on first use, closed with the
database (`database_close`). On PostgreSQL the pool already gives each statement its own
connection: the client is returned as it is.
"""

from __future__ import annotations

from weakref import WeakKeyDictionary

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.backends.sqlite.client import SqliteClient

_readers: WeakKeyDictionary[BaseDBAsyncClient, SqliteClient] = WeakKeyDictionary()


async def reader_for(db: BaseDBAsyncClient) -> BaseDBAsyncClient:
    """The connection reads should use for `db`: its own reader on a SQLite file, else `db`."""
    if not isinstance(db, SqliteClient) or db.filename in ("", ":memory:"):
        return db
    reader = _readers.get(db)
    if reader is not None:
        return reader
    opened = SqliteClient(
        file_path=db.filename, connection_name=f"{db.connection_name}-reader", **db.pragmas
    )
    await opened.create_connection(with_db=True)
    reader = _readers.setdefault(db, opened)
    if reader is not opened:  # another request opened one meanwhile
        await opened.close()
    return reader


async def readers_close(db: BaseDBAsyncClient) -> None:
    reader = _readers.pop(db, None)
    if reader is not None:
        await reader.close()
