"""The database connection's lifecycle, owned by whoever runs the domain (the API, the worker).

`database_open` returns the `TortoiseContext`; callers keep it and close exactly that context.
Tortoise tracks the active context in a contextvar, so the API enters it around each request
(`with ctx:`) and the worker around each job, instead of relying on how tasks inherit context.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg
from tortoise.context import TortoiseContext, _current_context
from tortoise.exceptions import DBConnectionError

from models import migrator
from models.db_config import tortoise_config


async def database_open(
    url: str,
    *,
    pool_size: int = 10,
    statement_timeout_ms: int = 5_000,
    create_schema: bool = False,
    check_schema: bool = True,
) -> TortoiseContext:
    """Connect to `url`. With `create_schema`, apply pending migrations (the SQLite default and
    `server.py migrate`); otherwise, with `check_schema`, raise `SchemaNotCurrent` when the
    database lacks a migration, and the database's own error when it cannot be reached."""
    ctx = TortoiseContext()
    with ctx:
        await ctx.init(
            config=tortoise_config(
                url, pool_size=pool_size, statement_timeout_ms=statement_timeout_ms
            ),
            _create_db=False,
        )
        try:
            if create_schema:
                await migrator.migrations_apply()
            elif check_schema:
                await migrator.migrations_check()
        except BaseException:
            await ctx.close_connections()
            raise
    return ctx


@contextmanager
def database_entered(database: TortoiseContext) -> Iterator[None]:
    """Make `database` the current tortoise context in this task only.

    Not `with database:`: a TortoiseContext keeps the token of its last `__enter__` on itself,
    so two tasks inside it at once (two requests, or a request and a job) reset each other's
    token and fail with "created in a different Context". A token of our own does not."""
    token = _current_context.set(database)
    try:
        yield
    finally:
        _current_context.reset(token)


async def database_close(ctx: TortoiseContext) -> None:
    await ctx.close_connections()


# Errors that mean "the database cannot answer now" rather than "this query is wrong": the server
# unreachable or restarting, the connection lost, a statement past DB_STATEMENT_TIMEOUT_MS, every
# connection taken, SQLite's write lock held past its busy timeout. Retrying later may succeed.
_UNAVAILABLE: tuple[type[BaseException], ...] = (
    OSError,  # refused, reset, unreachable, timed out (TimeoutError is an OSError)
    DBConnectionError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,  # shutting down, starting up, query canceled
    asyncpg.exceptions.InsufficientResourcesError,  # too many connections, disk full
)


def database_unavailable(error: BaseException | None) -> bool:
    """True when `error`, or an error it was raised from, says the database is unavailable."""
    seen = 0
    while error is not None and seen < 8:
        if isinstance(error, _UNAVAILABLE):
            return True
        if isinstance(error, asyncpg.InterfaceError) and "closed" in str(error):
            return True
        if isinstance(error, sqlite3.OperationalError) and "locked" in str(error):
            return True
        if "database is locked" in str(error):  # tortoise wraps sqlite3's error in its own
            return True
        error = error.__cause__ or error.__context__
        seen += 1
    return False
