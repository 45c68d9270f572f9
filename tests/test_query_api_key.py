"""Query.apiKey: one key, null unless the caller may see it."""

from __future__ import annotations

import pytest

from tests.harness import Api, Clock
from tests.support import (
    API_KEY,
    assert_code,
    assert_unauthorized,
    delete,
    mistyped,
    random_id,
    roll,
)


async def test_a_key_by_id(api: Api, clock: Clock) -> None:
    # given a rolled secret key, an hour later
    account = await api.sign_up()
    key, _ = await api.create_key(account, name="billing")
    rolled = await roll(api, account.session, key["id"])
    clock.advance(hours=1)
    # when
    data = await api.query(API_KEY, {"id": key["id"]}, token=account.session)
    # then
    assert data["apiKey"] == {
        "__typename": "ApiKey",
        "id": key["id"],
        "name": "billing",
        "type": "SECRET",
        "status": "ROLLED",
        "isDefault": False,
        "start": key["start"],
        "token": None,
        "createdAt": "2030-01-01T12:00:00Z",
        "expiresAt": "2030-01-02T00:00:00Z",
        "rolledAt": "2030-01-01T12:00:00Z",
        "lastUsedAt": None,
        "replacedBy": {"id": rolled["apiKey"]["id"]},
    }


async def test_status_follows_the_clock(api: Api, clock: Clock) -> None:
    # given a key rolled with an hour's grace
    account = await api.sign_up()
    key, _ = await api.create_key(account)
    await roll(api, account.session, key["id"], gracePeriodSeconds=3600)
    # when the hour passes
    clock.advance(hours=1)
    # then no job is needed for it to read EXPIRED
    data = await api.query(API_KEY, {"id": key["id"]}, token=account.session)
    assert data["apiKey"]["status"] == "EXPIRED"


async def test_a_secret_key_reads_its_organizations_keys(api: Api) -> None:
    # given
    account = await api.sign_up()
    _, token = await api.create_key(account)
    # when
    data = await api.query(API_KEY, {"id": account.default_key["id"]}, token=token)
    # then
    assert data["apiKey"]["token"] == account.default_key["token"]


@pytest.mark.parametrize("key_id", ["not-a-uuid", ""])
async def test_bad_input_is_null(api: Api, key_id: str) -> None:
    # given
    account = await api.sign_up()
    # when / then
    assert await api.query(API_KEY, {"id": key_id}, token=account.session) == {"apiKey": None}


async def test_api_key_needs_a_credential(api: Api) -> None:
    # given
    account = await api.sign_up()
    # when
    error = await api.error(API_KEY, {"id": account.default_key["id"]})
    # then
    assert_code(error, "UNAUTHENTICATED")


async def test_api_key_with_a_bad_credential_is_401(api: Api) -> None:
    # given
    account = await api.sign_up()
    # when
    status, body = await api.raw(
        API_KEY, {"id": account.default_key["id"]}, token=mistyped(account.session)
    )
    # then
    assert_unauthorized(status, body, "MALFORMED")


async def test_another_organizations_key_is_null_like_a_missing_one(api: Api) -> None:
    # given another organization's key
    other = await api.sign_up()
    account = await api.sign_up()
    _, secret = await api.create_key(account)
    for credential in (account.session, secret):
        # when
        theirs = await api.query(API_KEY, {"id": other.default_key["id"]}, token=credential)
        missing = await api.query(API_KEY, {"id": random_id()}, token=credential)
        # then
        assert theirs == missing == {"apiKey": None}


async def test_a_deleted_key_is_null(api: Api) -> None:
    # given
    account = await api.sign_up()
    key, _ = await api.create_key(account)
    await delete(api, account.session, key["id"])
    # when / then
    assert await api.query(API_KEY, {"id": key["id"]}, token=account.session) == {"apiKey": None}
