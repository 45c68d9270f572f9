"""tortoise's asyncpg client with bounded waits around each connection, so that a database that
stops answering fails a request within the README's bound instead of holding it.

- Taking a connection from the pool waits at most the command timeout (DB_STATEMENT_TIMEOUT_MS
  + 1 s): when every pooled connection hangs on a black-holed database, a new request gets its
  503 instead of queueing behind them; a healthy database under load frees one long before.
- Giving a connection back after a failure is not awaited: asyncpg first waits for the server to
  confirm the cancelled query (over a new connection, which a dead network never opens), then
  resets the connection. That happens in the background, bounded by the same timeout, and the
  request answers at once. After a success the release is awaited as before, but its failure
  does not fail the request: the query has answered, and asyncpg closes a connection it could not
  reset (its reset query stalled on a loaded server, say) so that the pool opens a fresh one.

Transactions take their connection from the pool with the same bounded wait, and give it back
as a successful query does, whether they committed or rolled back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any, cast

import asyncpg
from tortoise.backends.asyncpg.client import AsyncpgDBClient, TransactionWrapper
from tortoise.backends.base.client import (
    PoolConnectionWrapper,
    TransactionalDBClient,
    TransactionContext,
    TransactionContextPooled,
)
from tortoise.connection import get_connections
from tortoise.exceptions import TransactionManagementError

log = logging.getLogger("keyward.database")
_releasing: set[asyncio.Task[None]] = set()


class _BoundedPoolConnection(PoolConnectionWrapper[asyncpg.Connection]):
    async def __aenter__(self) -> asyncpg.Connection:
        await self.ensure_connection()
        client = cast(BoundedAsyncpgClient, self.client)
        assert client._pool is not None  # made by ensure_connection
        self.connection = await client._pool.acquire(timeout=client.acquire_seconds)
        return self.connection

    async def __aexit__(self, exc_type: Any, exc_val: Any, exc_tb: Any) -> None:
        client = cast(BoundedAsyncpgClient, self.client)
        assert client._pool is not None
        release = client._pool.release(self.connection, timeout=client.wait_seconds)
        if exc_type is None:
            await _given_back(release)
            return
        task = asyncio.ensure_future(release)
        _releasing.add(task)
        task.add_done_callback(_released)


async def _given_back(release: Awaitable[None]) -> None:
    """Await a release whose query or transaction has already answered."""
    try:
        await release
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        log.warning("closed a connection that could not be reset: %r", error)


def _released(task: asyncio.Task[None]) -> None:
    _releasing.discard(task)
    if not task.cancelled():
        task.exception()  # a failed release terminates the connection; nothing to report


class _BoundedTransaction(TransactionContextPooled):
    async def __aenter__(self) -> TransactionalDBClient:
        await self.ensure_connection()
        parent = cast(BoundedAsyncpgClient, self.client._parent)
        assert parent._pool is not None
        # As tortoise does, but the wait for a free connection is bounded.
        self.client._connection = await parent._pool.acquire(timeout=parent.acquire_seconds)
        self.token = get_connections().set(self.connection_name, self.client)
        await self.client.begin()
        return self.client

    async def __aexit__(self, exc_type: Any, exc_val: Any, exc_tb: Any) -> None:
        # As tortoise does, but the transaction's outcome is settled by its commit or rollback:
        # a connection that cannot be reset afterwards is closed, and the request answers.
        try:
            if not self.client._finalized:
                if exc_type is None:
                    await self.client.commit()
                elif exc_type is not TransactionManagementError:
                    await self.client.rollback()
        finally:
            parent = cast(BoundedAsyncpgClient, self.client._parent)
            if parent._pool:
                await _given_back(
                    parent._pool.release(self.client._connection, timeout=parent.wait_seconds)
                )
            get_connections().reset(self.token)


class BoundedAsyncpgClient(AsyncpgDBClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.wait_seconds: float = float(kwargs.get("timeout") or 2)
        self.acquire_seconds: float | None = kwargs.get("command_timeout") or None

    def acquire_connection(self) -> Any:
        return _BoundedPoolConnection(self, self._pool_init_lock)

    def _in_transaction(self) -> TransactionContext:
        return _BoundedTransaction(TransactionWrapper(self), self._pool_init_lock)


client_class = BoundedAsyncpgClient
