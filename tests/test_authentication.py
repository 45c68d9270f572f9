"""Who may call what: bad credentials end in 401 before any resolver runs; a missing one is an
UNAUTHENTICATED top-level error; a public key and a MEMBER are held to what they may do."""

from __future__ import annotations

from typing import Any

import pytest

from models import tokens
from models.entities import Role
from tests.harness import CREATE_API_KEY, PASSWORD, SIGN_IN, Api, Clock
from tests.support import (
    API_KEY,
    CREATE_ORGANIZATION,
    DELETE_API_KEY,
    ME,
    ORGANIZATION,
    ORGANIZATION_NAME,
    ROLL_API_KEY,
    SIGN_OUT,
    VERIFY_API_KEY,
    add_member,
    assert_code,
    assert_unauthorized,
    delete,
    keys_of,
    mistyped,
    roll,
    unknown_token,
)


async def test_a_malformed_token_is_401_with_www_authenticate(api: Api) -> None:
    # given a token that is not one of ours
    account = await api.sign_up()
    # when it is used as a bearer token
    response = await api.client.post(
        "/graphql",
        json={"query": ME},
        headers={"Authorization": f"Bearer {mistyped(account.session)}"},
    )
    # then the request is refused before any resolver, in the documented shape
    body = await response.json()
    assert response.status == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert_unauthorized(response.status, body, "MALFORMED")
    assert isinstance(body["errors"][0]["message"], str) and body["errors"][0]["message"]


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer    ", "sk_only"])
async def test_a_header_that_is_not_a_bearer_token_is_malformed(api: Api, header: str) -> None:
    # given / when
    response = await api.client.post(
        "/graphql", json={"query": ME}, headers={"Authorization": header}
    )
    # then
    assert_unauthorized(response.status, await response.json(), "MALFORMED")


@pytest.mark.parametrize(
    "kind", [tokens.TokenKind.SECRET_KEY, tokens.TokenKind.PUBLIC_KEY, tokens.TokenKind.SESSION]
)
async def test_an_unknown_token_is_not_found(api: Api, kind: tokens.TokenKind) -> None:
    # given a well-formed token that was never issued / when
    status, body = await api.raw(ME, token=unknown_token(kind))
    # then
    assert_unauthorized(status, body, "NOT_FOUND")


async def test_a_deleted_key_is_not_found_on_the_next_request(api: Api) -> None:
    # given a secret key that worked
    account = await api.sign_up()
    key, token = await api.create_key(account)
    assert key["id"] in {k["id"] for k in await keys_of(api, token, None)}
    # when it is deleted
    assert (await delete(api, account.session, key["id"]))["__typename"] == "ApiKeyDeleted"
    # then
    status, body = await api.raw(ORGANIZATION_NAME, token=token)
    assert_unauthorized(status, body, "NOT_FOUND")


async def test_an_expired_key_is_expired(api: Api, clock: Clock) -> None:
    # given a key that expires in an hour
    account = await api.sign_up()
    _, token = await api.create_key(account, expiresAt="2030-01-01T13:00:00Z")
    assert (await api.query(ORGANIZATION_NAME, token=token))["organization"]["name"]
    # when the hour has passed
    clock.advance(hours=1)
    # then
    status, body = await api.raw(ORGANIZATION_NAME, token=token)
    assert_unauthorized(status, body, "EXPIRED")


async def test_a_rolled_key_past_its_grace_is_expired(api: Api, clock: Clock) -> None:
    # given a secret key rolled with a one-minute grace
    account = await api.sign_up()
    key, token = await api.create_key(account)
    rolled = await roll(api, account.session, key["id"], gracePeriodSeconds=60)
    assert rolled["__typename"] == "ApiKeyRolled"
    assert (await api.query(ORGANIZATION_NAME, token=token))["organization"] is not None
    # when the grace has passed
    clock.advance(seconds=60)
    # then the old key is refused and the replacement works
    status, body = await api.raw(ORGANIZATION_NAME, token=token)
    assert_unauthorized(status, body, "EXPIRED")
    data = await api.query(ORGANIZATION_NAME, token=rolled["token"])
    assert data["organization"]["id"] == account.organization_id


async def test_an_ended_session_is_not_found(api: Api) -> None:
    # given a session that signed out
    account = await api.sign_up()
    assert (await api.query(SIGN_OUT, token=account.session)) == {"signOut": True}
    # when / then
    status, body = await api.raw(ME, token=account.session)
    assert_unauthorized(status, body, "NOT_FOUND")


async def test_a_session_past_its_ttl_is_expired(api: Api, clock: Clock) -> None:
    # given a session, 12 hours later
    account = await api.sign_up()
    clock.advance(seconds=43_199)
    assert (await api.query(ME, token=account.session))["me"]["id"] == account.user_id
    clock.advance(seconds=1)
    # when / then
    status, body = await api.raw(ME, token=account.session)
    assert_unauthorized(status, body, "EXPIRED")


async def test_a_bad_credential_stops_even_operations_that_need_none(api: Api) -> None:
    # given an account
    account = await api.sign_up()
    # when a sign-in carries a made-up token
    status, body = await api.raw(
        SIGN_IN, {"input": {"email": account.email, "password": PASSWORD}}, token=unknown_token()
    )
    # then
    assert_unauthorized(status, body, "NOT_FOUND")


NO_CREDENTIAL_CASES: list[tuple[str, dict[str, Any]]] = [
    (ORGANIZATION, {"id": None}),
    (API_KEY, {"id": "00000000-0000-0000-0000-000000000000"}),
    (VERIFY_API_KEY, {"token": "anything"}),
    (CREATE_API_KEY, {"input": {"name": "x"}}),
    (ROLL_API_KEY, {"input": {"id": "00000000-0000-0000-0000-000000000000"}}),
    (DELETE_API_KEY, {"input": {"id": "00000000-0000-0000-0000-000000000000"}}),
    (CREATE_ORGANIZATION, {"input": {"name": "x"}}),
    (SIGN_OUT, {}),
]


@pytest.mark.parametrize(
    ("document", "variables"),
    NO_CREDENTIAL_CASES,
    ids=[document.split("(")[0].split("{")[0].split()[-1] for document, _ in NO_CREDENTIAL_CASES],
)
async def test_no_credential_is_an_unauthenticated_error(
    api: Api, document: str, variables: dict[str, Any]
) -> None:
    # given no Authorization header / when
    error = await api.error(document, variables)
    # then
    assert_code(error, "UNAUTHENTICATED")


async def test_no_credential_me_is_null(api: Api) -> None:
    # given / when / then
    assert await api.query(ME) == {"me": None}


async def test_a_public_key_reads_its_organization_id_and_name(api: Api) -> None:
    # given the public Default API Key
    account = await api.sign_up(organizationName="Acme")
    public = account.default_key["token"]
    # when
    data = await api.query(ORGANIZATION_NAME, token=public)
    # then
    assert data == {
        "organization": {
            "__typename": "Organization",
            "id": account.organization_id,
            "name": "Acme",
        }
    }


async def test_a_public_key_verifies_keys_of_its_organization(api: Api) -> None:
    # given a public key and a secret key of the same organization
    account = await api.sign_up()
    key, token = await api.create_key(account)
    # when
    data = await api.query(VERIFY_API_KEY, {"token": token}, token=account.default_key["token"])
    # then
    assert data["verifyApiKey"]["valid"] is True
    assert data["verifyApiKey"]["keyId"] == key["id"]


PUBLIC_KEY_FORBIDDEN: list[tuple[str, str, dict[str, Any]]] = [
    ("list keys", ORGANIZATION, {"id": None}),
    ("read a key", API_KEY, {"id": "self"}),
    ("create a key", CREATE_API_KEY, {"input": {"name": "mine", "type": "PUBLIC"}}),
    ("roll a key", ROLL_API_KEY, {"input": {"id": "self"}}),
    ("delete a key", DELETE_API_KEY, {"input": {"id": "self"}}),
    ("create an organization", CREATE_ORGANIZATION, {"input": {"name": "Other"}}),
    ("sign out", SIGN_OUT, {}),
]


@pytest.mark.parametrize(
    ("what", "document", "variables"),
    PUBLIC_KEY_FORBIDDEN,
    ids=[case[0] for case in PUBLIC_KEY_FORBIDDEN],
)
async def test_a_public_key_may_do_nothing_else(
    api: Api, what: str, document: str, variables: dict[str, Any]
) -> None:
    # given the public Default API Key
    account = await api.sign_up()
    public = account.default_key
    variables = _with_self(variables, public["id"])
    # when it tries to <what>
    error = await api.error(document, variables, token=public["token"])
    # then the request is forbidden and nothing changed
    assert_code(error, "FORBIDDEN")
    keys = await keys_of(api, account.session, account.organization_id)
    assert [(k["id"], k["status"]) for k in keys] == [(public["id"], "ACTIVE")]


def _with_self(variables: dict[str, Any], key_id: str) -> dict[str, Any]:
    if variables.get("id") == "self":
        return {"id": key_id}
    if variables.get("input", {}).get("id") == "self":
        return {"input": {**variables["input"], "id": key_id}}
    return variables


async def test_a_member_may_list_keys_but_not_change_them(api: Api, db: None) -> None:
    # given a MEMBER of someone else's organization, which has a secret key
    owner = await api.sign_up()
    key, _ = await api.create_key(owner)
    member = await api.sign_up()
    await add_member(member, owner.organization_id, Role.MEMBER)
    # when the member lists and reads the keys
    data = await api.query(ORGANIZATION, {"id": owner.organization_id}, token=member.session)
    read = await api.query(API_KEY, {"id": key["id"]}, token=member.session)
    # then they see them, as a MEMBER
    assert data["organization"]["viewerRole"] == "MEMBER"
    assert data["organization"]["apiKeys"]["totalCount"] == 2
    assert read["apiKey"]["id"] == key["id"]
    # and creating, rolling and deleting are forbidden
    for document, variables in [
        (CREATE_API_KEY, {"input": {"organizationId": owner.organization_id, "name": "x"}}),
        (ROLL_API_KEY, {"input": {"id": key["id"]}}),
        (DELETE_API_KEY, {"input": {"id": key["id"]}}),
    ]:
        assert_code(await api.error(document, variables, token=member.session), "FORBIDDEN")
    keys = await keys_of(api, owner.session, owner.organization_id)
    assert len(keys) == 2
    assert {k["status"] for k in keys} == {"ACTIVE"}


async def test_an_admin_may_manage_keys(api: Api, db: None) -> None:
    # given an ADMIN of someone else's organization
    owner = await api.sign_up()
    admin = await api.sign_up()
    await add_member(admin, owner.organization_id, Role.ADMIN)
    # when
    data = await api.query(
        CREATE_API_KEY,
        {"input": {"organizationId": owner.organization_id, "name": "by admin"}},
        token=admin.session,
    )
    # then
    assert data["createApiKey"]["__typename"] == "ApiKeyCreated"
    keys = await keys_of(api, owner.session, owner.organization_id)
    assert sorted(k["name"] for k in keys) == ["Default API Key", "by admin"]


async def test_a_public_key_is_forbidden_before_any_lookup(api: Api) -> None:
    # given a public key, and another organization's key
    other = await api.sign_up()
    theirs, their_token = await api.create_key(other)
    account = await api.sign_up()
    public = account.default_key["token"]
    for document, variables in [
        (ROLL_API_KEY, {"input": {"id": theirs["id"]}}),
        (DELETE_API_KEY, {"input": {"id": theirs["id"]}}),
        (CREATE_API_KEY, {"input": {"organizationId": other.organization_id, "name": "x"}}),
    ]:
        # when / then it learns nothing about the other organization
        assert_code(await api.error(document, variables, token=public), "FORBIDDEN")
    assert (await api.verify(their_token))["valid"] is True
