"""The verification cache within one process, on a real database: what it serves, for how long,
and what makes it forget. Each test attaches its own cache with a clock it moves by hand.

A row changed behind the domain's back (raw SQL, no `key_changed`) is how these tests tell an
answer from memory from an answer from the database."""

from __future__ import annotations

import asyncio
import gc
import tracemalloc
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from tortoise.backends.base.client import BaseDBAsyncClient

from models.api_keys import api_key_create, api_key_delete, api_key_roll
from models.entities import ApiKey, ApiKeyType, KeyChange
from models.key_cache import (
    MISSING,
    KeyCache,
    key_cache_attach,
    key_cache_detach,
    key_cache_for,
)
from models.key_changes import CHANNEL, key_changed, key_changes
from models.key_verification import api_key_verify
from models.policies import KeyPolicy
from models.tokens import TokenKind, digest, generate
from settings import Settings, SettingsError
from tests.harness import ON_POSTGRES, TEST_DATABASE_URL, key_managed, key_manager
from tests.jobs_support import organization_make

NOW = datetime(2030, 1, 1, tzinfo=UTC)


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.seconds = 1_000.0

    def __call__(self) -> float:
        return self.seconds


@pytest.fixture
def ticks() -> Ticks:
    return Ticks()


@pytest.fixture
def cache(db: None, ticks: Ticks) -> Iterator[KeyCache]:
    connection = ApiKey._meta.db
    app_cache = key_cache_for(connection)
    ours = KeyCache(size=1_000, negative_seconds=2, max_age_seconds=60, clock=ticks)
    ours.listening()
    key_cache_attach(connection, ours)
    yield ours
    if app_cache is not None:
        key_cache_attach(connection, app_cache)


async def _key(organization_id: uuid.UUID, **extra: object) -> tuple[ApiKey, str]:
    return await api_key_create(
        access=await key_manager(organization_id),
        name="cached",
        type=ApiKeyType.SECRET,
        expires_at=extra.get("expires_at"),  # type: ignore[arg-type]
        now=NOW,
        policy=KeyPolicy(),
    )


@pytest.fixture
async def organization_id(db: None) -> uuid.UUID:
    return (await organization_make(now=NOW)).id


async def _delete_behind_the_domains_back(key_id: uuid.UUID) -> None:
    await ApiKey.filter(id=key_id).delete()


async def test_a_key_in_use_is_answered_from_memory(
    cache: KeyCache, ticks: Ticks, organization_id: uuid.UUID
) -> None:
    # given: a key verified once
    key, token = await _key(organization_id)
    assert (await api_key_verify(token=token, now=NOW)).valid
    # when: its row disappears without telling the cache
    await _delete_behind_the_domains_back(key.id)
    # then: the cache still answers for it, until its maximum age
    assert (await api_key_verify(token=token, now=NOW)).valid
    assert cache.stats.hit == 1 and cache.stats.miss == 1
    ticks.seconds += 60
    assert (await api_key_verify(token=token, now=NOW)).code.value == "NOT_FOUND"


async def test_a_delete_is_refused_at_once_in_the_process_that_made_it(
    cache: KeyCache, organization_id: uuid.UUID
) -> None:
    key, token = await _key(organization_id)
    assert (await api_key_verify(token=token, now=NOW)).valid
    assert (await api_key_verify(token=token, now=NOW)).valid  # from memory
    deleted = await api_key_delete(access=await key_managed(organization_id, key.id))
    assert deleted == key.id
    assert (await api_key_verify(token=token, now=NOW)).code.value == "NOT_FOUND"


async def test_a_rolled_key_works_from_memory_exactly_until_its_new_expiry(
    cache: KeyCache, organization_id: uuid.UUID
) -> None:
    # given: a key in the cache
    key, token = await _key(organization_id)
    assert (await api_key_verify(token=token, now=NOW)).valid
    # when: it is rolled with a minute's grace
    _, new_token, old = await api_key_roll(
        access=await key_managed(organization_id, key.id),
        grace_seconds=60,
        now=NOW,
        policy=KeyPolicy(),
    )
    # then: it verifies, as rolled, until the grace ends and not an instant longer
    assert old.expires_at == NOW + timedelta(seconds=60)
    for _ in range(2):  # the roll evicted it: read again, then from memory
        before = await api_key_verify(token=token, now=NOW + timedelta(seconds=59.999))
        assert before.valid and before.rolled
    assert cache.stats.hit == 1
    ended = await api_key_verify(token=token, now=NOW + timedelta(seconds=60))
    assert ended.code.value == "EXPIRED"
    assert (await api_key_verify(token=new_token, now=NOW + timedelta(seconds=60))).valid


async def test_an_expiry_is_checked_on_every_hit(
    cache: KeyCache, organization_id: uuid.UUID
) -> None:
    _, token = await _key(organization_id, expires_at=NOW + timedelta(hours=1))
    assert (await api_key_verify(token=token, now=NOW)).valid
    later = NOW + timedelta(hours=1)
    assert (await api_key_verify(token=token, now=later)).code.value == "EXPIRED"
    assert cache.stats.hit == 1


async def test_an_unknown_token_is_remembered_for_the_negative_seconds_only(
    cache: KeyCache, ticks: Ticks, organization_id: uuid.UUID
) -> None:
    made_up = generate(TokenKind.SECRET_KEY)
    for _ in range(5):
        assert (await api_key_verify(token=made_up, now=NOW)).code.value == "NOT_FOUND"
    assert (cache.stats.miss, cache.stats.negative) == (1, 4)
    ticks.seconds += 2
    assert (await api_key_verify(token=made_up, now=NOW)).code.value == "NOT_FOUND"
    assert cache.stats.miss == 2


async def test_a_rolled_back_delete_evicts_nothing_that_matters(
    cache: KeyCache, organization_id: uuid.UUID
) -> None:
    # given: a key in use, and a second one that is deleted for real afterwards
    key, token = await _key(organization_id)
    other, other_token = await _key(organization_id)
    assert (await api_key_verify(token=token, now=NOW)).valid
    version = await _change_version()
    notifications = await _listen() if ON_POSTGRES else None
    # when: a delete names it and then fails, rolling back
    with pytest.raises(RuntimeError, match="change failed"):
        async with key_changes():
            await ApiKey.filter(id=key.id).delete()
            await key_changed(key_ids=[key.id])
            raise RuntimeError("change failed")
    await api_key_delete(access=await key_managed(organization_id, other.id))
    # then: the key still verifies, and is soon served from memory again
    assert (await api_key_verify(token=token, now=NOW)).valid
    assert (await api_key_verify(token=token, now=NOW)).valid
    assert cache.stats.hit >= 1
    assert (await api_key_verify(token=other_token, now=NOW)).code.value == "NOT_FOUND"
    # and the other processes heard only of the committed delete
    if notifications is None:
        assert await _change_version() == version + 1
    else:
        connection, heard = notifications
        try:
            while str(other.id) not in (payload := await asyncio.wait_for(heard.get(), 5)):
                assert str(key.id) not in payload  # (other runs share the channel)
            assert str(key.id) not in payload
        finally:
            await connection.close()


async def test_a_lookup_in_flight_during_a_change_is_not_kept(
    cache: KeyCache, organization_id: uuid.UUID
) -> None:
    # given: a lookup that has read the row and not yet returned
    key, token = await _key(organization_id)
    verifying = asyncio.create_task(api_key_verify(token=token, now=NOW))
    await asyncio.sleep(0)  # let it start its lookup
    # when: the key changes before it is kept
    async with key_changes():
        await key_changed(key_ids=[key.id])
    await verifying
    # then: the next verification reads the database again
    await api_key_verify(token=token, now=NOW)
    assert cache.stats.miss == 2


async def test_made_up_tokens_never_grow_the_cache_past_its_bound(
    cache: KeyCache, organization_id: uuid.UUID
) -> None:
    # given: a cache that is already full
    cache.size = 1_000
    batch = 500

    async def flood(count: int) -> None:
        for start in range(0, count, batch):
            made_up = [generate(TokenKind.SECRET_KEY) for _ in range(min(batch, count - start))]
            await asyncio.gather(*(api_key_verify(token=t, now=NOW) for t in made_up))

    tracemalloc.start()
    try:
        await flood(cache.size)
        gc.collect()
        before = _held_by_the_cache()
        # when: 100,000 distinct made-up tokens arrive
        await flood(100_000)
        gc.collect()
        after = _held_by_the_cache()
    finally:
        tracemalloc.stop()
    # then: the cache holds no more than its bound, and its memory did not grow (the usage
    # counters' record of unknown digests has its own bound: `models.usage`)
    assert len(cache) == cache.size
    assert cache.stats.miss == 101_000
    assert after - before < 64 * 1024, (before, after)


def _held_by_the_cache() -> int:
    """Bytes still allocated by `models/key_cache.py` (traced since `tracemalloc.start()`)."""
    snapshot = tracemalloc.take_snapshot().filter_traces(
        [tracemalloc.Filter(True, "*/models/key_cache.py")]
    )
    return sum(stat.size for stat in snapshot.statistics("filename"))


async def _change_version() -> int:
    row = await KeyChange.get_or_none(id=1)
    return 0 if row is None else row.version


async def _listen() -> tuple[asyncpg.Connection[Any], asyncio.Queue[str]]:
    heard: asyncio.Queue[str] = asyncio.Queue()
    connection = await asyncpg.connect(TEST_DATABASE_URL)
    await connection.add_listener(CHANNEL, lambda *args: heard.put_nowait(str(args[3])))
    return connection, heard


@pytest.fixture
def off(db: None) -> Iterator[BaseDBAsyncClient]:
    connection = ApiKey._meta.db
    app_cache = key_cache_for(connection)
    key_cache_detach(connection)
    yield connection
    if app_cache is not None:
        key_cache_attach(connection, app_cache)


async def test_with_the_cache_off_every_verification_reads_the_database(
    off: BaseDBAsyncClient, organization_id: uuid.UUID
) -> None:
    key, token = await _key(organization_id)
    assert (await api_key_verify(token=token, now=NOW)).valid
    await _delete_behind_the_domains_back(key.id)
    assert (await api_key_verify(token=token, now=NOW)).code.value == "NOT_FOUND"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"KEY_CACHE_SIZE": "-1"}, "KEY_CACHE_SIZE"),
        ({"KEY_CACHE_SIZE": "lots"}, "KEY_CACHE_SIZE"),
        ({"KEY_CACHE_NEGATIVE_SECONDS": "90"}, "KEY_CACHE_NEGATIVE_SECONDS"),
        ({"KEY_CACHE_MAX_AGE_SECONDS": "0"}, "KEY_CACHE_MAX_AGE_SECONDS"),
        ({"KEY_CACHE_MAX_AGE_SECONDS": "soon"}, "KEY_CACHE_MAX_AGE_SECONDS"),
    ],
)
def test_cache_settings_out_of_range_are_refused_by_name(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)


def test_cache_settings_are_read_from_the_environment() -> None:
    env = {"KEY_CACHE_SIZE": "0", "KEY_CACHE_NEGATIVE_SECONDS": "0.5"}
    settings = Settings.from_env({**env, "KEY_CACHE_MAX_AGE_SECONDS": "5"})
    assert (settings.key_cache_size, settings.key_cache_negative_seconds) == (0, 0.5)
    assert settings.key_cache_max_age_seconds == 5


async def _used_past_its_refresh_age(cache: KeyCache, ticks: Ticks, token: str) -> None:
    """A use 50 s after the key was read (its refresh age is at most 3/4 of the 60 s maximum):
    answered from memory, then the background reading it started has settled."""
    ticks.seconds += 50
    assert (await api_key_verify(token=token, now=NOW)).valid
    await cache.refreshes_settled()


async def test_a_key_in_use_is_read_again_before_its_maximum_age_and_never_waits_for_it(
    cache: KeyCache, ticks: Ticks, organization_id: uuid.UUID
) -> None:
    # given: a key verified once (read from the database)
    _, token = await _key(organization_id)
    assert (await api_key_verify(token=token, now=NOW)).valid
    # when: it is used past its refresh age, then past the maximum age of its first reading
    await _used_past_its_refresh_age(cache, ticks, token)
    ticks.seconds += 20
    assert (await api_key_verify(token=token, now=NOW)).valid
    # then: it was read again in the background, and no verification waited for a lookup
    assert cache.stats.refreshes == 1
    assert (cache.stats.miss, cache.stats.hit) == (1, 2)


async def test_reading_a_key_again_finds_what_changed_behind_the_cache(
    cache: KeyCache, ticks: Ticks, organization_id: uuid.UUID
) -> None:
    # given: a key in use whose row disappears without telling the cache
    key, token = await _key(organization_id)
    assert (await api_key_verify(token=token, now=NOW)).valid
    await _delete_behind_the_domains_back(key.id)
    # when: a use past its refresh age is answered from memory, and the key is read again
    await _used_past_its_refresh_age(cache, ticks, token)
    # then: the next use is refused, before the maximum age
    assert (await api_key_verify(token=token, now=NOW)).code.value == "NOT_FOUND"


async def test_a_reading_again_in_flight_during_a_change_is_not_kept(
    cache: KeyCache, ticks: Ticks, organization_id: uuid.UUID
) -> None:
    # given: a key in use, read again in the background
    key, token = await _key(organization_id)
    assert (await api_key_verify(token=token, now=NOW)).valid
    ticks.seconds += 50
    assert cache.cached(digest(token)) is not MISSING  # a hit that starts the reading
    # when: the key changes before that reading is kept (here, before it has even run)
    cache.invalidate(key_ids=(key.id,))
    await cache.refreshes_settled()
    # then: the reading was dropped, and the next use reads the database
    assert cache.stats.refreshes == 0
    assert (await api_key_verify(token=token, now=NOW)).valid
    assert cache.stats.miss == 2
