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
from tests.support import api_key

TRIALS = 200
RACERS = 8
# Trials on different keys run side by side: the 8 racers per key stay the subject, and the
# 1,600 requests take seconds, not a minute.
TRIALS_AT_ONCE = 4
BURSTS, BURST_SIZE = 5, 20

ROLL = """
mutation Roll($input: RollApiKeyInput!) {
  rollApiKey(input: $input) { __typename ... on ApiKeyRolled { token apiKey { id } } }
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
LIST = """
query List($id: ID) { organization(id: $id) { apiKeys(first: 100) { edges { node { id } } } } }
"""
COUNT = "query Count($id: ID) { organization(id: $id) { apiKeys(first: 1) { totalCount } } }"


async def _keys(account: Account, count: int, now: datetime) -> list[tuple[uuid.UUID, str]]:
    """`count` fresh keys and their tokens, made directly: the subject here is what happens to
    them."""
    access = await key_manager(uuid.UUID(account.organization_id))
    made = [
        await api_key_create(
            access=access,
            name=f"key {number}",
            type=ApiKeyType.SECRET,
            expires_at=None,
            now=now,
            policy=KeyPolicy(),
        )
        for number in range(count)
    ]
    return [(key.id, token) for key, token in made]


async def _mutate(api: Api, document: str, key_id: uuid.UUID, token: str) -> str:
    data = await api.query(document, {"input": {"id": str(key_id)}}, token=token)
    return str(next(iter(data.values()))["__typename"])


async def test_racing_rolls_have_exactly_one_winner(api: Api, db: None, clock: Clock) -> None:
    # given
    account = await api.sign_up()
    keys = [key_id for key_id, _ in await _keys(account, TRIALS, clock())]

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
    # given keys in use, each with its token
    account = await api.sign_up()
    keys = await _keys(account, TRIALS // 4, clock())
    replacements: set[str] = set()
    orders = Counter[str]()

    for key_id, token in keys:
        # when a roll and a delete of it race
        rolled, deleted = await asyncio.gather(
            api.query(ROLL, {"input": {"id": str(key_id)}}, token=account.session),
            api.query(DELETE, {"input": {"id": str(key_id)}}, token=account.session),
        )

        # then the delete always finds the key, and its token is refused from then on
        assert deleted["deleteApiKey"]["__typename"] == "ApiKeyDeleted"
        assert await api.verify(token) == {"valid": False, "code": "NOT_FOUND"}
        result = rolled["rollApiKey"]
        if result["__typename"] == "ApiKeyRolled":  # roll, then delete: the replacement works
            verified = await api.verify(result["token"])
            assert verified["valid"] is True and verified["keyId"] == result["apiKey"]["id"]
            replacements.add(result["apiKey"]["id"])
        else:  # delete, then roll: nothing to roll
            assert result["__typename"] == "ApiKeyNotFound", result
        orders[result["__typename"]] += 1

    # and the organization lists its default key and the winners' replacements, nothing else:
    # a roll that lost to the delete left no half-made key behind
    data = await api.query(LIST, {"id": account.organization_id}, token=account.session)
    listed = {edge["node"]["id"] for edge in data["organization"]["apiKeys"]["edges"]}
    assert listed == {account.default_key["id"], *replacements}, orders


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
async def test_sqlite_locked_past_its_busy_timeout_is_a_503_for_writes_but_verification_answers(
    short_busy_timeout: None, api: Api, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    # given: a lock held longer than the busy timeout
    account = await api.sign_up()
    key, token = await api.create_key(account)
    other = sqlite3.connect(database_url.removeprefix("sqlite://"), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        # when a key is created, and a key never used before is verified
        status, body = await api.raw(
            CREATE,
            {"input": {"organizationId": account.organization_id, "name": "late"}},
            token=account.session,
        )
        verify = await api.client.post("/v1/keys/verify", json={"key": token})
        read = await api_key(api, account.session, key["id"])
    finally:
        other.execute("COMMIT")
        other.close()

    # then the creation is a 503
    assert status == 200, body
    assert body["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE", body
    # and the verification is answered: its lastUsedAt write is queued, not awaited, and the
    # write's failure behind the lock is logged (a read waits for it, and shows no use)
    assert verify.status == 200 and (await verify.json())["valid"] is True
    assert read is not None and read["lastUsedAt"] is None, read
    assert "lastUsedAt write failed" in caplog.text
    # and once the lock is gone, the key's next use is recorded
    assert (await api.verify(token))["valid"] is True
    read = await api_key(api, account.session, key["id"])
    assert read is not None and read["lastUsedAt"] == "2030-01-01T12:00:00Z", read
