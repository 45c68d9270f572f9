"""On SQLite, a write of this process waiting for another process's write lock must not stall
verification: the lookup reads through its own connection (WAL readers never wait for a writer).
Measured before the fix: the verification below waited for the whole lock (`HOLD_SECONDS`)."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time

import pytest

from tests.harness import ON_POSTGRES, Api

pytestmark = pytest.mark.skipif(ON_POSTGRES, reason="SQLite's file lock")

HOLD_SECONDS = 3.0
VERIFY_BOUND_SECONDS = 1.0


def _hold_write_lock(path: str, held: threading.Event, release: threading.Event) -> None:
    """Another process's writer, as SQLite sees it: a connection holding the write lock."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        held.set()
        release.wait(HOLD_SECONDS)
        connection.execute("ROLLBACK")
    finally:
        connection.close()


async def test_verification_does_not_wait_for_a_blocked_write(api: Api, database_url: str) -> None:
    # given a key used a moment ago (so verifying it writes nothing)
    account = await api.sign_up()
    _, token = await api.create_key(account)
    assert (await api.verify(token))["code"] == "VALID"
    held, release = threading.Event(), threading.Event()
    holder = threading.Thread(
        target=_hold_write_lock,
        args=(database_url.removeprefix("sqlite://"), held, release),
    )
    holder.start()
    try:
        assert await asyncio.to_thread(held.wait, 5)
        # when this process starts a write, which waits for that lock...
        write = asyncio.ensure_future(api.create_key(account, name="blocked"))
        await asyncio.sleep(0.2)
        assert not write.done()
        # ...and a verification comes in
        started = time.monotonic()
        result = await api.verify(token)
        waited = time.monotonic() - started
    finally:
        release.set()
        await asyncio.to_thread(holder.join, 10)
    # then the verification answered at once, and the write went through after the lock
    assert result["code"] == "VALID"
    assert waited < VERIFY_BOUND_SECONDS, f"verification waited {waited:.2f} s"
    key, _ = await write
    assert key["name"] == "blocked"
