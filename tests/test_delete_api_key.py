"""deleteApiKey: revoked at once; the very next request with the key fails."""

from __future__ import annotations

from tests.harness import Api
from tests.support import (
    DELETE_API_KEY,
    ORGANIZATION_NAME,
    assert_code,
    assert_unauthorized,
    delete,
    keys_of,
    mistyped,
    random_id,
    roll,
)


async def test_delete_refuses_the_key_at_once(api: Api) -> None:
    # given a secret key in use
    account = await api.sign_up()
    key, token = await api.create_key(account)
    assert (await api.verify(token))["valid"] is True
    # when
    result = await delete(api, account.session, key["id"])
    # then
    assert result == {"__typename": "ApiKeyDeleted", "deletedApiKeyId": key["id"]}
    assert await api.verify(token) == {"valid": False, "code": "NOT_FOUND"}
    status, body = await api.raw(ORGANIZATION_NAME, token=token)
    assert_unauthorized(status, body, "NOT_FOUND")
    keys = await keys_of(api, account.session, account.organization_id)
    assert [k["id"] for k in keys] == [account.default_key["id"]]


async def test_the_default_key_can_be_deleted(api: Api) -> None:
    # given
    account = await api.sign_up()
    default = account.default_key
    # when
    result = await delete(api, account.session, default["id"])
    # then
    assert result["__typename"] == "ApiKeyDeleted"
    assert await api.verify(default["token"]) == {"valid": False, "code": "NOT_FOUND"}
    assert await keys_of(api, account.session, account.organization_id) == []


async def test_deleting_a_key_in_its_grace_ends_it_now(api: Api) -> None:
    # given a rolled key inside its grace
    account = await api.sign_up()
    key, token = await api.create_key(account)
    rolled = await roll(api, account.session, key["id"])
    # when the old key is deleted
    result = await delete(api, account.session, key["id"])
    # then it is refused, and its replacement still works
    assert result["__typename"] == "ApiKeyDeleted"
    assert await api.verify(token) == {"valid": False, "code": "NOT_FOUND"}
    assert (await api.verify(rolled["token"]))["valid"] is True


async def test_deleting_a_replacement_leaves_the_old_key_to_its_grace(api: Api) -> None:
    # given a rolled key and its replacement
    account = await api.sign_up()
    key, token = await api.create_key(account)
    rolled = await roll(api, account.session, key["id"])
    # when the replacement is deleted
    await delete(api, account.session, rolled["apiKey"]["id"])
    # then the old key still works and points to nothing
    assert (await api.verify(token))["valid"] is True
    [old] = [
        k
        for k in await keys_of(api, account.session, account.organization_id)
        if k["id"] == key["id"]
    ]
    assert (old["status"], old["replacedBy"]) == ("ROLLED", None)


async def test_a_secret_key_may_delete_itself(api: Api) -> None:
    # given
    account = await api.sign_up()
    key, token = await api.create_key(account)
    # when
    result = await delete(api, token, key["id"])
    # then
    assert result["__typename"] == "ApiKeyDeleted"
    status, body = await api.raw(ORGANIZATION_NAME, token=token)
    assert_unauthorized(status, body, "NOT_FOUND")


async def test_deleting_twice_is_not_found(api: Api) -> None:
    # given a deleted key
    account = await api.sign_up()
    key, _ = await api.create_key(account)
    await delete(api, account.session, key["id"])
    # when
    result = await delete(api, account.session, key["id"])
    # then
    assert result["__typename"] == "ApiKeyNotFound"
    assert result["message"]


async def test_delete_answers_the_canonical_id(api: Api) -> None:
    # given a key id written in upper case
    account = await api.sign_up()
    key, _ = await api.create_key(account)
    # when
    result = await delete(api, account.session, key["id"].upper())
    # then the answer names the key as the API spells it
    assert result == {"__typename": "ApiKeyDeleted", "deletedApiKeyId": key["id"]}


async def test_bad_input_is_not_found(api: Api) -> None:
    # given
    account = await api.sign_up()
    # when
    result = await delete(api, account.session, "not-a-uuid")
    # then
    assert result["__typename"] == "ApiKeyNotFound"
    assert len(await keys_of(api, account.session, account.organization_id)) == 1


async def test_delete_needs_a_credential(api: Api) -> None:
    # given
    account = await api.sign_up()
    key, token = await api.create_key(account)
    # when
    error = await api.error(DELETE_API_KEY, {"input": {"id": key["id"]}})
    # then
    assert_code(error, "UNAUTHENTICATED")
    assert (await api.verify(token))["valid"] is True


async def test_delete_with_a_bad_credential_is_401(api: Api) -> None:
    # given
    account = await api.sign_up()
    key, token = await api.create_key(account)
    # when
    status, body = await api.raw(
        DELETE_API_KEY, {"input": {"id": key["id"]}}, token=mistyped(account.session)
    )
    # then
    assert_unauthorized(status, body, "MALFORMED")
    assert (await api.verify(token))["valid"] is True


async def test_another_organizations_key_is_not_found(api: Api) -> None:
    # given another organization's key
    other = await api.sign_up()
    theirs, their_token = await api.create_key(other)
    account = await api.sign_up()
    _, secret = await api.create_key(account)
    for credential in (account.session, secret):
        # when
        result = await delete(api, credential, theirs["id"])
        missing = await delete(api, credential, random_id())
        # then
        assert result == missing
        assert result["__typename"] == "ApiKeyNotFound"
    assert (await api.verify(their_token))["valid"] is True
