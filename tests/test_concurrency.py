"""Racing requests on one key end as some serial order of them would, on SQLite and PostgreSQL
alike, and a busy database is a wait (or a 503), never a 500."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections import Counter
from datetime import datetime
from typing import Any

import pytest

from models import db_config
from models.api_keys import api_key_create
from models.entities import ApiKey, ApiKeyType
from models.policies import KeyPolicy
from tests.harness import ON_POSTGRES, Account, Api, Clock, key_manager

TRIALS = 200
RACERS = 8
# Trials on different keys run side by side: the 8 racers per key stay the subject, and the
# 1,600 requests take seconds, not a minute.
TRIALS_AT_ONCE = 4
BURSTS, BURST_SIZE = 5, 20

ROLL = """
mutation Roll($input: RollApiKeyInput!) {
  rollApiKey(input: $input) { __typename ... on ApiKeyRolled { apiKey { id } } }
}
"""
DELETE = """
mutation Delete($input: DeleteApiKeyInput!) {
  deleteApiKey(input: $input) { __typename }
}
"""
CREATE = """
mutation Create($input: CreateApiKeyInput!) {
  createApiKey(input: $input) { __typename ... on ApiKeyCreated { token apiKey { id } } }
}
"""
COUNT = "query Count($id: ID) { organization(id: $id) { apiKeys(first: 1) { totalCount } } }"


async def _keys(account: Account, count: int, now: datetime) -> list[uuid.UUID]:
    """`count` fresh keys, made directly: the subject here is what happens to them."""
    keys = []
    for number in range(count):
        key, _ = await api_key_create(
            access=await key_manager(uuid.UUID(account.organization_id)),
            name=f"key {number}",
            type=ApiKeyType.SECRET,
            expires_at=None,
            now=now,
            policy=KeyPolicy(),
        )
        keys.append(key.id)
    return keys


async def _mutate(api: Api, document: str, key_id: uuid.UUID, token: str) -> str:
    data = await api.query(document, {"input": {"id": str(key_id)}}, token=token)
    return str(next(iter(data.values()))["__typename"])


async def test_racing_rolls_have_exactly_one_winner(api: Api, db: None, clock: Clock) -> None:
    # given
    account = await api.sign_up()
    keys = await _keys(account, TRIALS, clock())

    async def trial(key_id: uuid.UUID) -> None:
        # when
        results = await asyncio.gather(
            *(_mutate(api, ROLL, key_id, account.session) for _ in range(RACERS))
        )

        # then
        assert Counter(results) == {"ApiKeyRolled": 1, "ApiKeyNotRollable": RACERS - 1}
        old = await ApiKey.get(id=key_id)
        assert old.replaced_by_id is not None
        assert await ApiKey.filter(name=old.name).count() == 2  # the key and one replacement

    for start in range(0, TRIALS, TRIALS_AT_ONCE):
        await asyncio.gather(*(trial(key_id) for key_id in keys[start : start + TRIALS_AT_ONCE]))


async def test_a_roll_racing_a_delete_ends_in_a_serial_state(
    api: Api, db: None, clock: Clock
) -> None:
    # given
    account = await api.sign_up()
    keys = await _keys(account, TRIALS // 4, clock())
    orders = Counter[str]()

    for key_id in keys:
        name = (await ApiKey.get(id=key_id)).name
        # when
        rolled, deleted = await asyncio.gather(
            _mutate(api, ROLL, key_id, account.session),
            _mutate(api, DELETE, key_id, account.session),
        )

        # then: the delete always finds the key; what is left is what one order leaves
        assert deleted == "ApiKeyDeleted"
        assert not await ApiKey.exists(id=key_id)
        left = await ApiKey.filter(name=name).count()
        if rolled == "ApiKeyRolled":  # roll, then delete: the replacement stays
            assert left == 1
        else:  # delete, then roll: nothing to roll, nothing created
            assert rolled == "ApiKeyNotFound"
            assert left == 0
        orders[rolled] += 1
    assert sum(orders.values()) == len(keys)


async def test_concurrent_creates_lose_nothing(api: Api) -> None:
    # given
    account = await api.sign_up()
    created: list[dict[str, Any]] = []

    for burst in range(BURSTS):
        # when
        results = await asyncio.gather(
            *(
                api.query(
                    CREATE,
                    {"input": {"organizationId": account.organization_id, "name": f"{burst}.{n}"}},
                    token=account.session,
                )
                for n in range(BURST_SIZE)
            )
        )
        created += [result["createApiKey"] for result in results]

    # then
    assert {result["__typename"] for result in created} == {"ApiKeyCreated"}
    assert len({result["apiKey"]["id"] for result in created}) == BURSTS * BURST_SIZE
    data = await api.query(COUNT, {"id": account.organization_id}, token=account.session)
    assert data["organization"]["apiKeys"]["totalCount"] == BURSTS * BURST_SIZE + 1  # + default
    verified = await asyncio.gather(*(api.verify(result["token"]) for result in created))
    assert {result["code"] for result in verified} == {"VALID"}


@pytest.fixture
def short_busy_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """Give up on SQLite's lock after 100 ms instead of 10 s (set before the app connects)."""
    monkeypatch.setattr(db_config, "SQLITE_BUSY_TIMEOUT_MS", 100)


@pytest.mark.skipif(ON_POSTGRES, reason="SQLite's file lock")
async def test_another_process_holding_sqlite_is_a_wait_not_a_500(
    api: Api, database_url: str
) -> None:
    # given: another process (the worker, a backup) holds SQLite's write lock for a moment
    account = await api.sign_up()
    other = sqlite3.connect(database_url.removeprefix("sqlite://"), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    release = asyncio.get_running_loop().call_later(0.5, other.execute, "COMMIT")

    # when
    results = await asyncio.gather(
        *(
            api.query(
                CREATE,
                {"input": {"organizationId": account.organization_id, "name": f"n{n}"}},
                token=account.session,
            )
            for n in range(10)
        )
    )

    # then: every write waited for the lock (busy_timeout) and went through
    assert {result["createApiKey"]["__typename"] for result in results} == {"ApiKeyCreated"}
    release.cancel()
    other.close()


@pytest.mark.skipif(ON_POSTGRES, reason="SQLite's file lock")
async def test_sqlite_locked_past_its_busy_timeout_is_a_503(
    short_busy_timeout: None, api: Api, database_url: str
) -> None:
    # given: a lock held longer than the busy timeout
    account = await api.sign_up()
    _, token = await api.create_key(account)
    other = sqlite3.connect(database_url.removeprefix("sqlite://"), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        # when
        status, body = await api.raw(
            CREATE,
            {"input": {"organizationId": account.organization_id, "name": "late"}},
            token=account.session,
        )
        verify = await api.client.post("/v1/keys/verify", json={"key": token})
    finally:
        other.execute("COMMIT")
        other.close()

    # then
    assert status == 200, body
    assert body["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE", body
    assert verify.status == 503  # its first use records lastUsedAt: a write
    assert verify.content_type == "application/problem+json"
