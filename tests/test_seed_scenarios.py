"""The seed's promises, as a new user would live them (../shared/seed/api-keys.md)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

import models.api_keys
from models.entities import ApiKey
from tests.harness import Api, Clock
from tests.support import ORGANIZATION_NAME, assert_unauthorized, delete, keys_of, roll

ROLLERS = 8


async def test_every_organization_gets_a_public_default_key_with_its_token(api: Api) -> None:
    # given / when a team signs up
    account = await api.sign_up()
    # then its organization has one key: the public Default API Key, token visible
    [key] = await keys_of(api, account.session, account.organization_id)
    assert (key["name"], key["type"], key["isDefault"]) == ("Default API Key", "PUBLIC", True)
    assert key["token"] == account.default_key["token"]
    assert (await api.verify(key["token"]))["valid"] is True
    # and it may be published: it can read its organization's name and nothing more
    data = await api.query(ORGANIZATION_NAME, {}, token=key["token"])
    assert data["organization"]["id"] == account.organization_id


async def test_old_keys_work_for_twelve_hours_after_a_roll(api: Api, clock: Clock) -> None:
    # given a secret key in use by a server
    account = await api.sign_up()
    key, old_token = await api.create_key(account)
    # when it is rolled
    rolled = await roll(api, account.session, key["id"])
    new_token = rolled["token"]
    # then both keys authenticate for 12 hours
    for step in (0, 6 * 3600, 6 * 3600 - 1):
        clock.advance(seconds=step)
        for token in (old_token, new_token):
            data = await api.query(ORGANIZATION_NAME, {}, token=token)
            assert data["organization"]["id"] == account.organization_id
    # and then only the new one
    clock.advance(seconds=1)
    status, body = await api.raw(ORGANIZATION_NAME, {}, token=old_token)
    assert_unauthorized(status, body, "EXPIRED")
    assert (await api.query(ORGANIZATION_NAME, {}, token=new_token))["organization"]


async def test_a_deleted_key_is_refused_by_the_very_next_request(api: Api) -> None:
    # given a key in use
    account = await api.sign_up()
    key, token = await api.create_key(account)
    assert (await api.verify(token))["valid"] is True
    # when it is deleted, and with no time passing
    await delete(api, account.session, key["id"])
    # then
    assert await api.verify(token) == {"valid": False, "code": "NOT_FOUND"}


async def test_an_expiration_date_is_honoured_to_the_second(api: Api, clock: Clock) -> None:
    # given a key that expires at 13:00
    account = await api.sign_up()
    _, token = await api.create_key(account, expiresAt="2030-01-01T13:00:00Z")
    # when / then
    clock.advance(minutes=59, seconds=59)
    assert (await api.verify(token))["valid"] is True
    clock.advance(seconds=1)
    assert await api.verify(token) == {"valid": False, "code": "EXPIRED"}


async def test_eight_concurrent_rolls_make_exactly_one_replacement(api: Api) -> None:
    # given a key
    account = await api.sign_up()
    key, old_token = await api.create_key(account)
    # when eight rolls of it race
    results = await asyncio.gather(*(roll(api, account.session, key["id"]) for _ in range(8)))
    # then exactly one won
    names = sorted(result["__typename"] for result in results)
    assert names == ["ApiKeyNotRollable"] * 7 + ["ApiKeyRolled"]
    [winner] = [result for result in results if result["__typename"] == "ApiKeyRolled"]
    # and exactly one replacement exists, the winner's, and it works
    keys = await keys_of(api, account.session, account.organization_id)
    assert sorted(k["id"] for k in keys) == sorted(
        [account.default_key["id"], key["id"], winner["apiKey"]["id"]]
    )
    [old] = [k for k in keys if k["id"] == key["id"]]
    assert old["replacedBy"] == {"id": winner["apiKey"]["id"]}
    assert (await api.verify(winner["token"]))["keyId"] == winner["apiKey"]["id"]
    assert (await api.verify(old_token))["valid"] is True


async def test_eight_rolls_that_all_passed_the_status_check_still_make_one_replacement(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given eight rolls held back until every one of them has read the key as ACTIVE and is
    # about to write: the worst interleaving, which timing alone rarely produces on SQLite
    account = await api.sign_up()
    key, _ = await api.create_key(account)
    barrier = asyncio.Barrier(ROLLERS)
    unclaimed_on_arrival: list[bool] = []
    real_transaction = models.api_keys.key_changes  # type: ignore[attr-defined]

    @contextlib.asynccontextmanager
    async def after_everyone(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        # Each roll arrives here past its status check, about to write. Nobody has claimed
        # the key yet on any arrival: so no roll read it after another had written.
        unclaimed_on_arrival.append(await ApiKey.exists(id=key["id"], rolled_at=None))
        await asyncio.wait_for(barrier.wait(), timeout=10)
        async with real_transaction(*args, **kwargs) as connection:
            yield connection

    monkeypatch.setattr(models.api_keys, "key_changes", after_everyone)
    # when
    results = await asyncio.gather(*(roll(api, account.session, key["id"]) for _ in range(ROLLERS)))
    # then every roll got as far as its write with the key still unclaimed
    assert unclaimed_on_arrival == [True] * ROLLERS
    # and the conditional update let exactly one through
    names = sorted(result["__typename"] for result in results)
    assert names == ["ApiKeyNotRollable"] * (ROLLERS - 1) + ["ApiKeyRolled"]
    keys = await keys_of(api, account.session, account.organization_id)
    assert len(keys) == 3
    [winner] = [result for result in results if result["__typename"] == "ApiKeyRolled"]
    [old] = [k for k in keys if k["id"] == key["id"]]
    assert old["replacedBy"] == {"id": winner["apiKey"]["id"]}
