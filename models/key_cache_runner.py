"""Keeping a process's verification cache able to hear invalidations, or keeping it out of use.

PostgreSQL: one dedicated asyncpg connection, outside the ORM's pool, LISTENs on
`keyward_keys`. The cache answers only while that connection is up: it starts in bypass, turns
on once LISTEN has succeeded, and when the connection drops (killed, restarted server, failed
keepalive) it goes back to bypass and reconnects; once LISTENing again it starts empty, since
notifications have no replay.

SQLite: a task reads the one-row `key_change` counter every `POLL_SECONDS`; one step forward
evicts what the row names, a bigger jump flushes everything, and a failed read puts the cache in
bypass until a read succeeds again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import select
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import asyncpg
from tortoise.backends.base.client import BaseDBAsyncClient

from models.key_cache import KeyCache, key_cache_attach, key_cache_detach
from models.key_changes import CHANNEL, KeyChangeNames
from models.sql import is_sqlite

log = logging.getLogger("keyward.key_cache")

POLL_SECONDS = 0.1
# The LISTEN connection is checked this often, so a connection that died silently is noticed.
KEEPALIVE_SECONDS = 2.0
KEEPALIVE_TIMEOUT_SECONDS = 1.0
RECONNECT_SECONDS = (0.1, 0.2, 0.5, 1.0, 2.0)
LISTENER_NAME = "keyward-key-cache"


def _heard(cache: KeyCache, names: KeyChangeNames) -> None:
    names.apply(cache)
    if names.pid != os.getpid() and names.at > 0:
        cache.stats.propagated(max(0.0, time.time() - names.at))


async def _listen_once(cache: KeyCache, url: str) -> None:
    """LISTEN on one connection, with the cache in use, until that connection is lost."""
    lost = asyncio.Event()
    connection = await asyncpg.connect(
        url.replace("postgresql://", "postgres://", 1),
        timeout=5,
        server_settings={"application_name": f"{LISTENER_NAME}-{os.getpid()}"},
    )
    try:
        connection.add_termination_listener(lambda _: lost.set())

        def notified(_c: object, _pid: int, _channel: str, payload: object) -> None:
            _heard(cache, KeyChangeNames.decode(str(payload)))

        await connection.add_listener(CHANNEL, notified)
        cache.listening()
        cache.unheard = _unread(connection)
        log.info("key cache: listening for invalidations")
        while not lost.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(lost.wait(), KEEPALIVE_SECONDS)
            if not lost.is_set():
                await connection.fetchval("SELECT 1", timeout=KEEPALIVE_TIMEOUT_SECONDS)
    finally:
        cache.deaf()
        if not connection.is_closed():
            connection.terminate()


def _unread(connection: Any) -> Callable[[], bool] | None:
    """Whether the LISTEN socket holds data not yet read: a zero-timeout poll, ~1 µs."""
    transport = getattr(connection, "_transport", None)
    sock = None if transport is None else transport.get_extra_info("socket")
    if sock is None:
        return None
    poller = select.poll()
    poller.register(sock.fileno(), select.POLLIN)
    return lambda: bool(poller.poll(0))


async def _listen(cache: KeyCache, url: str) -> None:
    failures = 0
    while True:
        began = time.monotonic()
        try:
            await _listen_once(cache, url)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # any failure: stop answering from memory, then retry
            cache.deaf()
            log.warning("key cache: cannot hear invalidations (%r); bypassing", error)
        failures = 0 if time.monotonic() - began > KEEPALIVE_SECONDS else failures + 1
        await asyncio.sleep(RECONNECT_SECONDS[min(failures, len(RECONNECT_SECONDS) - 1)])


async def _poll(cache: KeyCache, db: BaseDBAsyncClient) -> None:
    seen: int | None = None
    while True:
        try:
            _, rows = await db.execute_query("SELECT version, names FROM key_change WHERE id = 1")
            version, names = (int(rows[0][0]), str(rows[0][1])) if rows else (0, "")
            if seen is None or not cache.hearing:
                cache.listening()
            elif version == seen + 1:
                _heard(cache, KeyChangeNames.decode(names))
            elif version != seen:
                cache.flush()
            seen = version
        except asyncio.CancelledError:
            raise
        except Exception as error:
            if cache.hearing:
                log.warning("key cache: cannot read key_change (%s); bypassing", error)
            cache.deaf()
        await asyncio.sleep(POLL_SECONDS)


@contextlib.asynccontextmanager
async def key_cache_running(
    db: BaseDBAsyncClient,
    url: str,
    *,
    size: int,
    negative_seconds: float,
    max_age_seconds: float,
) -> AsyncIterator[KeyCache | None]:
    """A verification cache for `db` while inside; None (the uncached path) when `size` is 0."""
    if size <= 0:
        yield None
        return
    cache = KeyCache(size=size, negative_seconds=negative_seconds, max_age_seconds=max_age_seconds)
    task = asyncio.create_task(_poll(cache, db) if is_sqlite(db) else _listen(cache, url))
    key_cache_attach(db, cache)
    try:
        yield cache
    finally:
        key_cache_detach(db)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
