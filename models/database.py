"""The database connection's lifecycle, owned by whoever runs the domain (the API, the worker).

`database_open` returns the `TortoiseContext`; callers keep it and close exactly that context.
Tortoise tracks the active context in a contextvar, so the API enters it around each request
(`with ctx:`) and the worker around each job, instead of relying on how tasks inherit context.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg
from tortoise.context import TortoiseContext, _current_context
from tortoise.exceptions import DBConnectionError

from models import migrator
from models.db_config import DEFAULT_CONNECT_TIMEOUT_MS, tortoise_config
from models.sqlite_readers import readers_close


async def database_open(
    url: str,
    *,
    pool_size: int = 10,
    statement_timeout_ms: int = 5_000,
    connect_timeout_ms: int = DEFAULT_CONNECT_TIMEOUT_MS,
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
                url,
                pool_size=pool_size,
                statement_timeout_ms=statement_timeout_ms,
                connect_timeout_ms=connect_timeout_ms,
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


def database_enter(database: TortoiseContext) -> None:
    """`database_entered` for the rest of the current context, with no reset: for work that
    runs in a context of its own (`contextvars.copy_context()`), discarded with it."""
    _current_context.set(database)


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
    with database_entered(ctx):
        for connection in ctx.connections.all():
            await readers_close(connection)
    await ctx.close_connections()


# Errors that mean "the database cannot answer now" rather than "this query is wrong", by what
# the drivers can raise. Retrying later may succeed; each is answered 503, never 500.
_UNAVAILABLE: tuple[type[BaseException], ...] = (
    # connection: refused, reset, unreachable, timed out (TimeoutError is an OSError), lost
    OSError,
    EOFError,
    DBConnectionError,
    asyncpg.PostgresConnectionError,  # class 08, protocol violations included
    asyncpg.exceptions.InvalidAuthorizationSpecificationError,  # class 28: the server refuses us
    # server state: shutting down, starting up, query canceled (statement_timeout), too many
    # connections, disk full, "database does not allow connections", a lock not available,
    # a deadlock or serialization failure (the transaction was rolled back: try again)
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InsufficientResourcesError,
    asyncpg.exceptions.ObjectNotInPrerequisiteStateError,
    asyncpg.exceptions.TransactionRollbackError,
    asyncpg.exceptions.IdleInTransactionSessionTimeoutError,
    asyncpg.exceptions.IdleSessionTimeoutError,
    # client state: a connection broken mid-protocol ("cannot switch to state …")
    asyncpg.exceptions.InternalClientError,
)
# asyncpg.InterfaceError is also raised for our own mistakes (a wrong argument count): only these
# say that the connection or the pool is the problem.
_INTERFACE_STATE = ("closed", "another operation is in progress", "pool", "connection")
_SQLITE_STATE = ("database is locked", "database is busy", "disk i/o error", "unable to open")


def database_unavailable(error: BaseException | None) -> bool:
    """True when `error`, or an error it was raised from, says the database is unavailable."""
    seen = 0
    while error is not None and seen < 8:
        if isinstance(error, _UNAVAILABLE):
            return True
        text = str(error).lower()
        if isinstance(error, asyncpg.InterfaceError) and any(s in text for s in _INTERFACE_STATE):
            return True
        if any(state in text for state in _SQLITE_STATE):  # sqlite3's, or tortoise's wrapping
            return True
        error = error.__cause__ or error.__context__
        seen += 1
    return False
