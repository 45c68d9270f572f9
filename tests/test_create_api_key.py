"""createApiKey: a named public or secret key; a secret token is in this response and never
again."""

from __future__ import annotations

from typing import Any

import pytest

from tests.harness import CREATE_API_KEY, Api, Clock
from tests.support import (
    API_KEY,
    assert_code,
    assert_unauthorized,
    keys_of,
    mistyped,
    random_id,
)


def create(organization_id: str | None, **fields: Any) -> dict[str, Any]:
    return {"input": {"organizationId": organization_id, "name": "server", **fields}}


async def test_create_a_secret_key(api: Api) -> None:
    # given
    account = await api.sign_up()
    # when
    data = await api.query(
        CREATE_API_KEY,
        create(account.organization_id, name=" billing ", expiresAt="2031-01-01T00:00:00+02:00"),
        token=account.session,
    )
    # then
    result = data["createApiKey"]
    assert result["__typename"] == "ApiKeyCreated"
    key, token = result["apiKey"], result["token"]
    assert key["name"] == "billing"
    assert (key["type"], key["status"], key["isDefault"]) == ("SECRET", "ACTIVE", False)
    assert key["token"] is None
    assert token.startswith("sk_") and token.startswith(key["start"])
    assert key["createdAt"] == "2030-01-01T12:00:00Z"
    assert key["expiresAt"] == "2030-12-31T22:00:00Z"
    assert key["rolledAt"] is None and key["lastUsedAt"] is None and key["replacedBy"] is None
    verified = await api.verify(token)
    assert verified == {
        "valid": True,
        "code": "VALID",
        "keyId": key["id"],
        "organizationId": account.organization_id,
        "type": "SECRET",
        "name": "billing",
        "expiresAt": "2030-12-31T22:00:00+00:00",
    }
    # and the token is never shown again
    listed = await keys_of(api, account.session, account.organization_id)
    assert {k["id"]: k["token"] for k in listed}[key["id"]] is None
    again = await api.query(API_KEY, {"id": key["id"]}, token=account.session)
    assert again["apiKey"]["token"] is None


async def test_create_a_public_key_shows_its_token(api: Api) -> None:
    # given
    account = await api.sign_up()
    # when
    key, token = await api.create_key(account, name="web", type="PUBLIC")
    # then the token is shown now and whenever the key is read
    assert token.startswith("pk_")
    assert key["token"] == token
    again = await api.query(API_KEY, {"id": key["id"]}, token=account.session)
    assert again["apiKey"]["token"] == token


async def test_the_type_defaults_to_secret(api: Api) -> None:
    # given
    account = await api.sign_up()
    # when
    data = await api.query(
        CREATE_API_KEY,
        {"input": {"organizationId": account.organization_id, "name": "x"}},
        token=account.session,
    )
    # then
    assert data["createApiKey"]["apiKey"]["type"] == "SECRET"


async def test_a_secret_key_creates_in_its_own_organization(api: Api) -> None:
    # given a secret key
    account = await api.sign_up()
    _, secret = await api.create_key(account)
    # when it creates a key without naming the organization
    data = await api.query(CREATE_API_KEY, create(None, name="child"), token=secret)
    # then
    assert data["createApiKey"]["__typename"] == "ApiKeyCreated"
    verified = await api.verify(data["createApiKey"]["token"])
    assert verified["organizationId"] == account.organization_id


@pytest.mark.parametrize(
    ("field", "fields"),
    [
        ("name", {"name": ""}),
        ("name", {"name": "   "}),
        ("name", {"name": "x" * 101}),
        ("expiresAt", {"expiresAt": "2031-01-01T00:00:00"}),
        ("expiresAt", {"expiresAt": "2030-01-01T12:00:00Z"}),
        ("expiresAt", {"expiresAt": "2029-06-01T00:00:00Z"}),
        ("expiresAt", {"expiresAt": "9999-12-31T23:59:59-05:00"}),
        ("expiresAt", {"expiresAt": "0001-01-01T00:00:00+05:00"}),
    ],
)
async def test_bad_input_is_invalid_input(api: Api, field: str, fields: dict[str, Any]) -> None:
    # given
    account = await api.sign_up()
    # when
    data = await api.query(
        CREATE_API_KEY, create(account.organization_id, **fields), token=account.session
    )
    # then nothing was created
    result = data["createApiKey"]
    assert (result["__typename"], result["field"]) == ("InvalidInput", field)
    assert result["message"]
    assert len(await keys_of(api, account.session, account.organization_id)) == 1


async def test_a_hundred_character_name_is_fine(api: Api) -> None:
    # given
    account = await api.sign_up()
    # when
    key, _ = await api.create_key(account, name="x" * 100)
    # then
    assert key["name"] == "x" * 100


async def test_a_user_must_name_the_organization(api: Api) -> None:
    # given
    account = await api.sign_up()
    # when
    data = await api.query(CREATE_API_KEY, create(None), token=account.session)
    # then
    assert data["createApiKey"]["__typename"] == "InvalidInput"
    assert data["createApiKey"]["field"] == "organizationId"


async def test_an_unparseable_date_is_a_graphql_error(api: Api) -> None:
    # given
    account = await api.sign_up()
    # when
    error = await api.error(
        CREATE_API_KEY,
        create(account.organization_id, expiresAt="next tuesday"),
        token=account.session,
    )
    # then
    assert "DateTime" in error["message"]
    assert len(await keys_of(api, account.session, account.organization_id)) == 1


async def test_create_needs_a_credential(api: Api) -> None:
    # given
    account = await api.sign_up()
    # when
    error = await api.error(CREATE_API_KEY, create(account.organization_id))
    # then
    assert_code(error, "UNAUTHENTICATED")
    assert len(await keys_of(api, account.session, account.organization_id)) == 1


async def test_create_with_a_bad_credential_is_401(api: Api) -> None:
    # given
    account = await api.sign_up()
    _, token = await api.create_key(account)
    # when
    status, body = await api.raw(
        CREATE_API_KEY, create(account.organization_id), token=mistyped(token)
    )
    # then
    assert_unauthorized(status, body, "MALFORMED")
    assert len(await keys_of(api, account.session, account.organization_id)) == 2


async def test_another_organization_is_not_found_like_a_missing_one(api: Api) -> None:
    # given another organization, and a user and a secret key of ours
    other = await api.sign_up()
    account = await api.sign_up()
    _, secret = await api.create_key(account)
    for credential in (account.session, secret):
        # when
        theirs = await api.query(CREATE_API_KEY, create(other.organization_id), token=credential)
        missing = await api.query(CREATE_API_KEY, create(random_id()), token=credential)
        garbage = await api.query(CREATE_API_KEY, create("not-an-id"), token=credential)
        # then
        assert theirs == missing == garbage
        assert theirs["createApiKey"]["__typename"] == "OrganizationNotFound"
    assert len(await keys_of(api, other.session, other.organization_id)) == 1


async def test_an_expired_key_reads_expired(api: Api, clock: Clock) -> None:
    # given a key that expires in a minute
    account = await api.sign_up()
    key, token = await api.create_key(account, expiresAt="2030-01-01T12:01:00Z")
    # when a minute passes
    clock.advance(minutes=1)
    # then
    data = await api.query(API_KEY, {"id": key["id"]}, token=account.session)
    assert data["apiKey"]["status"] == "EXPIRED"
    assert await api.verify(token) == {"valid": False, "code": "EXPIRED"}
