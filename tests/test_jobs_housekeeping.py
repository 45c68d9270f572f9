"""The housekeeping domain functions, against a real database, with time passed in as `now`."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest

from models.api_keys import api_key_create, api_key_roll
from models.database import database_entered
from models.entities import ApiKey, ApiKeyType, Session
from models.housekeeping import (
    api_keys_expire_rolled,
    api_keys_purge_expired,
    sessions_purge_ended,
)
from models.key_verification import VerificationCode, api_key_verify
from models.policies import KeyPolicy
from settings import Settings
from tests.harness import ON_POSTGRES, Clock, key_managed, key_manager
from tests.jobs_support import keys_make, organization_make, second_database, sessions_make

HOUR = timedelta(hours=1)


async def test_expire_rolled_marks_only_rolled_keys_past_their_grace(
    db: None, clock: Clock
) -> None:
    # given rolled keys past their grace, rolled keys inside it, and expired unrolled keys
    now = clock.now
    organization = await organization_make(now=now - 10 * HOUR)
    past = await keys_make(
        organization, 3, created_at=now - 9 * HOUR, expires_at=now - HOUR, rolled_at=now - 2 * HOUR
    )
    grace = await keys_make(
        organization, 2, created_at=now - 9 * HOUR, expires_at=now + HOUR, rolled_at=now - HOUR
    )
    unrolled = await keys_make(organization, 2, created_at=now - 9 * HOUR, expires_at=now - HOUR)
    # when
    count = await api_keys_expire_rolled(now=now, batch_size=2)
    # then
    assert count == 3
    marked = {key.id: key.expired_at for key in await ApiKey.all()}
    assert all(marked[key.id] == now for key in past)
    assert all(marked[key.id] is None for key in grace + unrolled)
    # and a second run changes nothing
    assert await api_keys_expire_rolled(now=now + HOUR / 2) == 0
    assert {key.id: key.expired_at for key in await ApiKey.all()} == marked


async def test_purge_expired_honours_the_retention(db: None, clock: Clock) -> None:
    # given keys that expired 3 hours ago, 30 minutes ago, ones valid for an hour, and no expiry
    now = clock.now
    organization = await organization_make(now=now - 10 * HOUR)
    await keys_make(organization, 5, created_at=now - 9 * HOUR, expires_at=now - 3 * HOUR)
    recent = await keys_make(organization, 2, created_at=now - 9 * HOUR, expires_at=now - HOUR / 2)
    valid = await keys_make(organization, 2, created_at=now - 9 * HOUR, expires_at=now + HOUR)
    forever = await keys_make(organization, 1, created_at=now - 9 * HOUR, expires_at=None)
    # when the retention is one hour
    purged = await api_keys_purge_expired(now=now, retention_seconds=3600, batch_size=2)
    # then
    assert purged == 5
    assert {key.id for key in await ApiKey.all()} == {k.id for k in recent + valid + forever}
    # and with no retention the recent ones go too, once
    assert await api_keys_purge_expired(now=now, retention_seconds=0) == 2
    assert await api_keys_purge_expired(now=now, retention_seconds=0) == 0
    assert {key.id for key in await ApiKey.all()} == {k.id for k in valid + forever}


async def test_purging_a_rolled_key_keeps_its_replacement(db: None, clock: Clock) -> None:
    # given a key rolled with a one-second grace
    organization = await organization_make(now=clock.now)
    key, _ = await api_key_create(
        access=await key_manager(organization.id),
        name="server",
        type=ApiKeyType.SECRET,
        expires_at=None,
        now=clock.now,
        policy=KeyPolicy(),
    )
    replacement, token, _ = await api_key_roll(
        access=await key_managed(organization.id, key.id),
        policy=KeyPolicy(),
        grace_seconds=1,
        now=clock.now,
    )
    # when its grace has passed and both jobs run
    now = clock.advance(seconds=1)
    assert await api_keys_expire_rolled(now=now) == 1
    assert await api_keys_purge_expired(now=now, retention_seconds=0) == 1
    # then the replacement alone is left, and works
    assert [k.id for k in await ApiKey.all()] == [replacement.id]
    assert (await api_key_verify(token=token, now=now)).code is VerificationCode.VALID


async def test_sessions_purge_ended(db: None, clock: Clock) -> None:
    # given ended and live sessions
    now = clock.now
    await sessions_make(now=now - 13 * HOUR, expires_at=now - HOUR, count=4)
    await sessions_make(now=now - 13 * HOUR, expires_at=now, count=1)
    await sessions_make(now=now - HOUR, expires_at=now + HOUR, count=3)
    # when / then
    assert await sessions_purge_ended(now=now, batch_size=3) == 5
    assert await Session.all().count() == 3
    assert await sessions_purge_ended(now=now) == 0


async def test_a_stop_between_batches_finishes_the_batch_in_hand(db: None, clock: Clock) -> None:
    # given 12 due keys and a run told to stop after its first batch
    now = clock.now
    organization = await organization_make(now=now - 2 * HOUR)
    await keys_make(organization, 12, created_at=now - 2 * HOUR, expires_at=now - HOUR)
    calls = 0

    async def once() -> bool:
        nonlocal calls
        calls += 1
        return False

    # when
    purged = await api_keys_purge_expired(
        now=now, retention_seconds=0, batch_size=5, keep_going=once
    )
    # then one whole batch was done, and the rest waits for the next run
    assert (purged, calls) == (5, 1)
    assert await ApiKey.all().count() == 7
    assert await api_keys_purge_expired(now=now, retention_seconds=0, batch_size=5) == 7


async def test_catch_up_after_two_days(db: None, clock: Clock) -> None:
    # given a worker down for two days while keys fell due every half hour, half of them rolled
    start = clock.now
    organization = await organization_make(now=start - HOUR)
    for step in range(96):
        due = start + step * HOUR / 2
        await keys_make(
            organization,
            1,
            created_at=start - HOUR,
            expires_at=due,
            rolled_at=due - HOUR if step % 2 else None,
        )
    await sessions_make(now=start, expires_at=start + 12 * HOUR, count=10)
    live = await keys_make(
        organization, 3, created_at=start - HOUR, expires_at=start + 3 * 24 * HOUR
    )
    # when it comes back
    now = clock.advance(days=2)
    # then each job, run once, clears everything that fell due and nothing else
    assert await api_keys_expire_rolled(now=now, batch_size=10) == 48
    assert await api_keys_purge_expired(now=now, retention_seconds=0, batch_size=10) == 96
    assert await sessions_purge_ended(now=now, batch_size=4) == 10
    assert {key.id for key in await ApiKey.all()} == {key.id for key in live}


async def test_verification_refuses_expired_keys_before_any_job(db: None, clock: Clock) -> None:
    # given a key that expired while no job ran
    organization = await organization_make(now=clock.now)
    _, token = await api_key_create(
        access=await key_manager(organization.id),
        name="server",
        type=ApiKeyType.SECRET,
        expires_at=clock.now + HOUR,
        now=clock.now,
        policy=KeyPolicy(),
    )
    # when / then
    now = clock.advance(days=2)
    assert (await api_key_verify(token=token, now=now)).code is VerificationCode.EXPIRED
    assert await ApiKey.all().count() == 1


async def _at_once(
    settings: Settings, aiohttp_client: Any, job: Callable[[], Awaitable[int]]
) -> tuple[int, int]:
    """`job` run twice at once on two connections (two apps: two tortoise contexts)."""
    databases = [await second_database(settings, aiohttp_client) for _ in range(2)]

    async def on(index: int) -> int:
        with database_entered(databases[index]):
            return await job()

    first, second = await asyncio.gather(on(0), on(1))
    return first, second


async def test_two_purges_at_once_end_as_one(
    db: None, clock: Clock, settings: Settings, aiohttp_client: Any
) -> None:
    # given 300 due keys, 300 rolled keys past their grace, and 20 valid keys
    now = clock.now
    organization = await organization_make(now=now - 2 * HOUR)
    await keys_make(organization, 300, created_at=now - 2 * HOUR, expires_at=now - HOUR)
    await keys_make(
        organization,
        300,
        created_at=now - 2 * HOUR,
        expires_at=now - HOUR,
        rolled_at=now - 2 * HOUR,
    )
    valid = await keys_make(organization, 20, created_at=now - 2 * HOUR, expires_at=now + HOUR)
    # when both jobs run twice at once, in small batches
    expired = await _at_once(
        settings, aiohttp_client, lambda: api_keys_expire_rolled(now=now, batch_size=25)
    )
    purged = await _at_once(
        settings,
        aiohttp_client,
        lambda: api_keys_purge_expired(now=now, retention_seconds=0, batch_size=25),
    )
    # then every row was done exactly once between them, and the state is one run's
    assert sum(expired) == 300
    assert sum(purged) == 600
    assert {key.id for key in await ApiKey.all()} == {key.id for key in valid}



async def test_a_deadlocked_batch_is_retried_once(db: None) -> None:
    from models.housekeeping import DEADLOCK_RETRIES, _in_batches, deadlocked

    # given a statement that PostgreSQL picks as a deadlock's victim, then again
    class Deadlock(Exception):
        sqlstate = "40P01"

    calls: list[int] = []

    async def statement() -> int:
        calls.append(1)
        if ON_POSTGRES and len(calls) <= DEADLOCK_RETRIES + 1:
            raise Deadlock("deadlock detected")
        return 0

    # when / then: retried once, then the second deadlock is raised
    if ON_POSTGRES:
        with pytest.raises(Deadlock):
            await _in_batches(statement, None)
        assert len(calls) == DEADLOCK_RETRIES + 1
        calls.clear()
        calls.append(1)  # a single deadlock: the retry succeeds
        assert await _in_batches(statement, None) == 0
        assert len(calls) == 3
    wrapped = RuntimeError("query failed")
    wrapped.__cause__ = Deadlock()
    assert deadlocked(wrapped) and not deadlocked(RuntimeError("other"))


async def test_housekeeping_statements_take_one_lock(db: None, clock: Clock) -> None:
    """Both jobs' statements wait for the same advisory lock, so they never interleave their
    row locks (PostgreSQL; SQLite has one writer)."""
    if not ON_POSTGRES:
        pytest.skip("PostgreSQL only")
    from tortoise.transactions import in_transaction

    from models.housekeeping import HOUSEKEEPING_LOCK

    # given another session holding the lock
    outside = contextvars.copy_context()  # the job must not join the holder's transaction
    async with in_transaction() as holder:
        await holder.execute_query("SELECT pg_advisory_xact_lock($1)", [HOUSEKEEPING_LOCK])
        # when a job runs meanwhile
        job = asyncio.create_task(api_keys_expire_rolled(now=clock.now), context=outside)
        done, _ = await asyncio.wait({job}, timeout=0.5)
        # then it waits
        assert not done
    assert await job == 0
