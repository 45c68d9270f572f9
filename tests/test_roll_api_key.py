"""rollApiKey: a replacement key; the old one keeps working through its grace period (12 hours
by default), then is refused."""

from __future__ import annotations

import pytest

from tests.harness import Api, Clock
from tests.support import (
    ROLL_API_KEY,
    assert_code,
    assert_unauthorized,
    delete,
    keys_of,
    mistyped,
    random_id,
    roll,
)


async def test_roll_keeps_both_keys_working_for_twelve_hours(api: Api, clock: Clock) -> None:
    # given a secret key that expires next year
    account = await api.sign_up()
    key, token = await api.create_key(account, name="billing", expiresAt="2031-01-01T00:00:00Z")
    # when it is rolled
    result = await roll(api, account.session, key["id"])
    # then
    assert result["__typename"] == "ApiKeyRolled"
    new, old = result["apiKey"], result["rolledApiKey"]
    assert new["id"] != key["id"]
    assert (new["name"], new["type"], new["status"]) == ("billing", "SECRET", "ACTIVE")
    assert new["expiresAt"] == "2031-01-01T00:00:00Z"
    assert new["token"] is None and result["token"].startswith(new["start"])
    assert old["id"] == key["id"]
    assert old["status"] == "ROLLED"
    assert old["rolledAt"] == "2030-01-01T12:00:00Z"
    assert old["expiresAt"] == "2030-01-02T00:00:00Z"
    assert old["replacedBy"] == {"id": new["id"]}
    # and both verify until the grace ends, then only the replacement
    assert (await api.verify(token))["valid"] is True
    assert (await api.verify(result["token"]))["keyId"] == new["id"]
    clock.advance(hours=12, seconds=-1)
    assert (await api.verify(token))["valid"] is True
    clock.advance(seconds=1)
    assert await api.verify(token) == {"valid": False, "code": "EXPIRED"}
    assert (await api.verify(result["token"]))["valid"] is True


async def test_grace_never_outlives_the_keys_own_expiry(api: Api) -> None:
    # given a key that expires in an hour
    account = await api.sign_up()
    key, _ = await api.create_key(account, expiresAt="2030-01-01T13:00:00Z")
    # when rolled with the default 12-hour grace
    result = await roll(api, account.session, key["id"])
    # then the old key still stops in an hour, and so does the replacement
    assert result["rolledApiKey"]["expiresAt"] == "2030-01-01T13:00:00Z"
    assert result["apiKey"]["expiresAt"] == "2030-01-01T13:00:00Z"


async def test_a_zero_grace_stops_the_old_key_now(api: Api) -> None:
    # given
    account = await api.sign_up()
    key, token = await api.create_key(account)
    # when
    result = await roll(api, account.session, key["id"], gracePeriodSeconds=0)
    # then
    assert result["rolledApiKey"]["status"] == "EXPIRED"
    assert await api.verify(token) == {"valid": False, "code": "EXPIRED"}
    assert (await api.verify(result["token"]))["valid"] is True


async def test_a_custom_grace_of_seven_days(api: Api, clock: Clock) -> None:
    # given
    account = await api.sign_up()
    key, token = await api.create_key(account)
    # when
    result = await roll(api, account.session, key["id"], gracePeriodSeconds=604_800)
    # then
    assert result["rolledApiKey"]["expiresAt"] == "2030-01-08T12:00:00Z"
    clock.advance(days=6)
    assert (await api.verify(token))["valid"] is True


async def test_rolling_the_default_key_moves_the_default(api: Api) -> None:
    # given the public Default API Key
    account = await api.sign_up()
    default = account.default_key
    # when
    result = await roll(api, account.session, default["id"])
    # then the replacement is the default and shows its token
    new, old = result["apiKey"], result["rolledApiKey"]
    assert (new["isDefault"], new["type"], new["name"]) == (True, "PUBLIC", "Default API Key")
    assert new["token"] == result["token"]
    assert old["isDefault"] is False
    keys = {k["id"]: k for k in await keys_of(api, account.session, account.organization_id)}
    assert keys[new["id"]]["isDefault"] is True
    assert keys[default["id"]]["isDefault"] is False


@pytest.mark.parametrize("grace", [-1, 604_801])
async def test_bad_grace_is_invalid_input(api: Api, grace: int) -> None:
    # given
    account = await api.sign_up()
    key, token = await api.create_key(account)
    # when
    result = await roll(api, account.session, key["id"], gracePeriodSeconds=grace)
    # then nothing changed
    assert (result["__typename"], result["field"]) == ("InvalidInput", "gracePeriodSeconds")
    keys = await keys_of(api, account.session, account.organization_id)
    assert {k["status"] for k in keys} == {"ACTIVE"} and len(keys) == 2


async def test_a_grace_beyond_int_range_is_a_graphql_error(api: Api) -> None:
    # given
    account = await api.sign_up()
    key, _ = await api.create_key(account)
    # when
    error = await api.error(
        ROLL_API_KEY,
        {"input": {"id": key["id"], "gracePeriodSeconds": 2**40}},
        token=account.session,
    )
    # then the client is told what is wrong
    assert "gracePeriodSeconds" in error["message"]


async def test_a_rolled_key_cannot_be_rolled_again(api: Api) -> None:
    # given a rolled key
    account = await api.sign_up()
    key, _ = await api.create_key(account)
    assert (await roll(api, account.session, key["id"]))["__typename"] == "ApiKeyRolled"
    # when
    again = await roll(api, account.session, key["id"])
    # then
    assert again["__typename"] == "ApiKeyNotRollable"
    assert again["message"]
    assert len(await keys_of(api, account.session, account.organization_id)) == 3


async def test_an_expired_key_cannot_be_rolled(api: Api, clock: Clock) -> None:
    # given an expired key
    account = await api.sign_up()
    key, _ = await api.create_key(account, expiresAt="2030-01-01T12:00:01Z")
    clock.advance(seconds=1)
    # when
    result = await roll(api, account.session, key["id"])
    # then
    assert result["__typename"] == "ApiKeyNotRollable"


async def test_a_secret_key_may_roll_itself(api: Api) -> None:
    # given
    account = await api.sign_up()
    key, token = await api.create_key(account)
    # when
    result = await roll(api, token, key["id"])
    # then the old token still works during the grace
    assert result["__typename"] == "ApiKeyRolled"
    assert (await api.verify(token))["valid"] is True


async def test_roll_needs_a_credential(api: Api) -> None:
    # given
    account = await api.sign_up()
    key, _ = await api.create_key(account)
    # when
    error = await api.error(ROLL_API_KEY, {"input": {"id": key["id"]}})
    # then
    assert_code(error, "UNAUTHENTICATED")
    keys = await keys_of(api, account.session, account.organization_id)
    assert {k["status"] for k in keys} == {"ACTIVE"}


async def test_roll_with_a_bad_credential_is_401(api: Api) -> None:
    # given
    account = await api.sign_up()
    key, token = await api.create_key(account)
    # when
    status, body = await api.raw(ROLL_API_KEY, {"input": {"id": key["id"]}}, token=mistyped(token))
    # then
    assert_unauthorized(status, body, "MALFORMED")


async def test_another_organizations_key_is_not_found(api: Api) -> None:
    # given another organization's key, and our user and secret key
    other = await api.sign_up()
    theirs, their_token = await api.create_key(other)
    account = await api.sign_up()
    _, secret = await api.create_key(account)
    for credential in (account.session, secret):
        # when
        result = await roll(api, credential, theirs["id"])
        missing = await roll(api, credential, random_id())
        # then
        assert result == missing
        assert result["__typename"] == "ApiKeyNotFound"
    keys = await keys_of(api, other.session, other.organization_id)
    assert {k["status"] for k in keys} == {"ACTIVE"} and len(keys) == 2


@pytest.mark.parametrize("key_id", ["not-a-uuid", ""])
async def test_a_malformed_id_is_not_found(api: Api, key_id: str) -> None:
    # given
    account = await api.sign_up()
    # when
    result = await roll(api, account.session, key_id)
    # then
    assert result["__typename"] == "ApiKeyNotFound"


async def test_a_deleted_key_is_not_found(api: Api) -> None:
    # given
    account = await api.sign_up()
    key, _ = await api.create_key(account)
    await delete(api, account.session, key["id"])
    # when
    result = await roll(api, account.session, key["id"])
    # then
    assert result["__typename"] == "ApiKeyNotFound"
