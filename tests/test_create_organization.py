"""createOrganization: a new organization owned by the signed-in user, with its public Default
API Key."""

from __future__ import annotations

import pytest

from tests.harness import Api, Clock, nodes
from tests.support import (
    CREATE_ORGANIZATION,
    ME,
    ORGANIZATION,
    assert_code,
    assert_unauthorized,
    keys_of,
    unknown_token,
)


async def test_create_organization(api: Api, clock: Clock) -> None:
    # given a signed-in user, a minute later
    account = await api.sign_up()
    clock.advance(minutes=1)
    # when
    data = await api.query(
        CREATE_ORGANIZATION, {"input": {"name": " Beta "}}, token=account.session
    )
    # then
    result = data["createOrganization"]
    assert result["__typename"] == "OrganizationCreated"
    organization = result["organization"]
    assert (organization["name"], organization["viewerRole"]) == ("Beta", "OWNER")
    assert organization["createdAt"] == "2030-01-01T12:01:00Z"
    assert organization["apiKeys"]["totalCount"] == 1
    key = organization["apiKeys"]["edges"][0]["node"]
    assert (key["name"], key["type"], key["isDefault"]) == ("Default API Key", "PUBLIC", True)
    verified = await api.verify(key["token"])
    assert verified["organizationId"] == organization["id"]
    # and the user now belongs to both organizations
    me = await api.query(ME, token=account.session)
    assert [o["id"] for o in nodes(me["me"]["organizations"])] == [
        account.organization_id,
        organization["id"],
    ]


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
async def test_bad_name_is_invalid_input(api: Api, name: str) -> None:
    # given
    account = await api.sign_up()
    # when
    data = await api.query(CREATE_ORGANIZATION, {"input": {"name": name}}, token=account.session)
    # then nothing was created
    assert data["createOrganization"]["__typename"] == "InvalidInput"
    assert data["createOrganization"]["field"] == "name"
    me = await api.query(ME, token=account.session)
    assert len(nodes(me["me"]["organizations"])) == 1


async def test_create_organization_needs_a_credential(api: Api) -> None:
    # given / when
    error = await api.error(CREATE_ORGANIZATION, {"input": {"name": "Beta"}})
    # then
    assert_code(error, "UNAUTHENTICATED")


async def test_create_organization_with_a_bad_credential_is_401(api: Api) -> None:
    # given / when
    status, body = await api.raw(
        CREATE_ORGANIZATION, {"input": {"name": "Beta"}}, token=unknown_token()
    )
    # then
    assert_unauthorized(status, body, "NOT_FOUND")


async def test_a_secret_key_cannot_create_an_organization(api: Api) -> None:
    # given a secret key
    account = await api.sign_up()
    _, token = await api.create_key(account)
    # when
    error = await api.error(CREATE_ORGANIZATION, {"input": {"name": "Beta"}}, token=token)
    # then
    assert_code(error, "FORBIDDEN")
    me = await api.query(ME, token=account.session)
    assert len(nodes(me["me"]["organizations"])) == 1


async def test_a_new_organization_is_invisible_to_others(api: Api) -> None:
    # given another user's new organization
    other = await api.sign_up()
    data = await api.query(CREATE_ORGANIZATION, {"input": {"name": "Beta"}}, token=other.session)
    beta = data["createOrganization"]["organization"]["id"]
    account = await api.sign_up()
    _, token = await api.create_key(account)
    # when / then neither the user nor their key can see it
    for credential in (account.session, token):
        found = await api.query(ORGANIZATION, {"id": beta}, token=credential)
        assert found == {"organization": None}
    assert [k["id"] for k in await keys_of(api, other.session, beta)] == [
        data["createOrganization"]["organization"]["apiKeys"]["edges"][0]["node"]["id"]
    ]
