"""Database figures: the connection pool's state, read at scrape time, and the errors counted
where keyward turns a database failure into a 503 (`database_error_observed`).

The pool is read from each open tortoise context that registered itself
(`database_observed`): the API's and the worker's, one per process in production.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from tortoise.context import TortoiseContext

from telemetry.metrics import DATABASE_ERRORS, RECORDING, REGISTRY

_CONTEXTS: list[TortoiseContext] = []


def database_error_kind(error: BaseException | None) -> str:
    """A short, fixed name for why the database could not answer (the metric's `kind`)."""
    seen = 0
    while error is not None and seen < 8:
        if isinstance(error, asyncpg.exceptions.QueryCanceledError | asyncio.TimeoutError):
            return "timeout"
        if isinstance(error, asyncpg.exceptions.InsufficientResourcesError):
            return "resources"
        if isinstance(error, sqlite3.OperationalError) or "database is locked" in str(error):
            return "locked"
        if isinstance(error, OSError | asyncpg.PostgresConnectionError | asyncpg.InterfaceError):
            return "connection"
        error = error.__cause__ or error.__context__
        seen += 1
    return "other"


def database_error_observed(error: BaseException | None) -> None:
    """Count one failure of the database to answer."""
    if RECORDING.on:
        DATABASE_ERRORS.labels(database_error_kind(error)).inc()


def _pool_state(ctx: TortoiseContext) -> tuple[int, int, int] | None:
    """(in use, idle, max) of `ctx`'s default connection, or None when it is closed."""
    try:
        client = ctx.db()
    except Exception:
        return None
    pool = getattr(client, "_pool", None)
    if isinstance(pool, asyncpg.Pool):
        size, idle = pool.get_size(), pool.get_idle_size()
        return size - idle, idle, pool.get_max_size()
    connection = getattr(client, "_connection", None)
    lock = getattr(client, "_lock", None)
    if connection is None:
        return 0, 0, 1
    busy = 1 if isinstance(lock, asyncio.Lock) and lock.locked() else 0
    return busy, 1 - busy, 1  # SQLite: one connection, one statement at a time


class PoolCollector(Collector):
    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "keyward_db_pool_connections",
            "Database connections of this process by state: in_use, idle, max (the pool's bound).",
            labels=["state"],
        )
        totals = [0, 0, 0]
        for ctx in list(_CONTEXTS):
            state = _pool_state(ctx)
            if state is not None:
                totals = [total + value for total, value in zip(totals, state, strict=True)]
        for name, value in zip(("in_use", "idle", "max"), totals, strict=True):
            family.add_metric([name], value)
        yield family


REGISTRY.register(PoolCollector())


@contextmanager
def database_observed(ctx: TortoiseContext) -> Iterator[None]:
    """Report `ctx`'s pool in `keyward_db_pool_connections` while inside."""
    _CONTEXTS.append(ctx)
    try:
        yield
    finally:
        _CONTEXTS.remove(ctx)
