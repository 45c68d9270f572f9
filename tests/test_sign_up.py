"""signUp: a user, their first organization (OWNER) with its public Default API Key, a session."""

from __future__ import annotations

import asyncio

import pytest

from tests.harness import PASSWORD, SIGN_UP, Api, nodes
from tests.support import ME, assert_unauthorized, keys_of, mistyped


async def test_sign_up_creates_an_organization_with_its_default_key(api: Api) -> None:
    # given / when
    data = await api.query(
        SIGN_UP,
        {"input": {"email": "Ada@Example.com", "password": PASSWORD, "organizationName": " Acme "}},
    )
    # then
    result = data["signUp"]
    assert result["__typename"] == "SignedIn"
    assert result["user"]["email"] == "Ada@Example.com"
    [organization] = nodes(result["user"]["organizations"])
    assert organization["name"] == "Acme"
    assert organization["viewerRole"] == "OWNER"
    [edge] = organization["apiKeys"]["edges"]
    key = edge["node"]
    assert key["name"] == "Default API Key"
    assert (key["type"], key["status"], key["isDefault"]) == ("PUBLIC", "ACTIVE", True)
    assert key["expiresAt"] is None and key["rolledAt"] is None and key["replacedBy"] is None
    assert key["token"].startswith("pk_") and key["token"].startswith(key["start"])
    # and the token verifies, and the session works
    verified = await api.verify(key["token"])
    assert (verified["valid"], verified["keyId"], verified["organizationId"]) == (
        True,
        key["id"],
        organization["id"],
    )
    me = await api.query(ME, token=result["sessionToken"])
    assert me["me"]["id"] == result["user"]["id"]


async def test_the_organization_name_defaults(api: Api) -> None:
    # given / when
    account = await api.sign_up()
    # then
    me = await api.query(ME, token=account.session)
    assert [o["name"] for o in nodes(me["me"]["organizations"])] == ["My organization"]


@pytest.mark.parametrize(
    ("field", "extra"),
    [
        ("email", {"email": "not-an-email"}),
        ("email", {"email": ""}),
        ("password", {"password": "short12"}),
        ("password", {"password": "x" * 1025}),
        ("organizationName", {"organizationName": "   "}),
        ("organizationName", {"organizationName": "x" * 101}),
    ],
)
async def test_bad_input_is_invalid_input_and_creates_nothing(
    api: Api, field: str, extra: dict[str, str]
) -> None:
    # given
    variables = {"input": {"email": "ada@example.com", "password": PASSWORD, **extra}}
    # when
    data = await api.query(SIGN_UP, variables)
    # then
    assert data["signUp"]["__typename"] == "InvalidInput"
    assert data["signUp"]["field"] == field
    assert data["signUp"]["message"]
    # and the email is still free
    assert (await api.sign_up("ada@example.com")).email == "ada@example.com"


async def test_long_passwords_are_accepted(api: Api) -> None:
    # given / when
    data = await api.query(SIGN_UP, {"input": {"email": "a@example.com", "password": "p" * 128}})
    # then
    assert data["signUp"]["__typename"] == "SignedIn"
    assert await api.sign_in("a@example.com", "p" * 128)


async def test_an_email_is_taken_whatever_its_case(api: Api) -> None:
    # given another person's account
    await api.sign_up("ada@example.com")
    # when
    data = await api.query(SIGN_UP, {"input": {"email": "ADA@example.COM", "password": PASSWORD}})
    # then
    assert data["signUp"]["__typename"] == "EmailTaken"
    assert data["signUp"]["message"]


async def test_concurrent_sign_ups_with_one_email_make_one_account(api: Api) -> None:
    # given / when three sign-ups of one address race
    variables = {"input": {"email": "race@example.com", "password": PASSWORD}}
    results = await asyncio.gather(*(api.query(SIGN_UP, variables) for _ in range(3)))
    # then one account exists, with one organization
    names = sorted(result["signUp"]["__typename"] for result in results)
    assert names == ["EmailTaken", "EmailTaken", "SignedIn"]
    session = await api.sign_in("race@example.com")
    me = await api.query(ME, token=session)
    assert len(nodes(me["me"]["organizations"])) == 1


async def test_sign_up_needs_no_credential_but_refuses_a_bad_one(api: Api) -> None:
    # given a bad bearer token
    account = await api.sign_up()
    variables = {"input": {"email": "b@example.com", "password": PASSWORD}}
    # when
    status, body = await api.raw(SIGN_UP, variables, token=mistyped(account.session))
    # then nothing was created
    assert_unauthorized(status, body, "MALFORMED")
    assert (await api.sign_up("b@example.com")).email == "b@example.com"


async def test_a_new_account_sees_only_its_own_organization(api: Api) -> None:
    # given another organization
    other = await api.sign_up()
    # when
    account = await api.sign_up()
    # then
    keys = await keys_of(api, account.session, account.organization_id)
    assert [k["id"] for k in keys] == [account.default_key["id"]]
    assert account.organization_id != other.organization_id
    me = await api.query(ME, token=account.session)
    assert [o["id"] for o in nodes(me["me"]["organizations"])] == [account.organization_id]
