"""renameOrganization and deleteOrganization: OWNERs only; deleting takes the keys (revoked at
once) and the memberships with it, and a user left with no organization can found one."""

from __future__ import annotations

import uuid

import pytest

from models.entities import ApiKey, Invitation, Membership
from tests.harness import Api
from tests.support import CREATE_ORGANIZATION, ME, ORGANIZATION_NAME, assert_code, random_id
from tests.team_support import DELETE_ORGANIZATION, RENAME_ORGANIZATION, invite, join


async def test_an_owner_renames_the_organization(api: Api) -> None:
    owner = await api.sign_up()
    data = await api.query(
        RENAME_ORGANIZATION,
        {"input": {"id": owner.organization_id, "name": "  Acme Ltd "}},
        token=owner.session,
    )
    assert data["renameOrganization"] == {
        "__typename": "OrganizationRenamed",
        "organization": {"id": owner.organization_id, "name": "Acme Ltd"},
    }
    named = await api.query(ORGANIZATION_NAME, {"id": owner.organization_id}, token=owner.session)
    assert named["organization"]["name"] == "Acme Ltd"


@pytest.mark.parametrize("name", ["", "  ", "x" * 101])
async def test_a_bad_name_is_invalid_input(api: Api, name: str) -> None:
    owner = await api.sign_up()
    data = await api.query(
        RENAME_ORGANIZATION,
        {"input": {"id": owner.organization_id, "name": name}},
        token=owner.session,
    )
    assert (data["renameOrganization"]["__typename"], data["renameOrganization"]["field"]) == (
        "InvalidInput",
        "name",
    )


async def test_only_owners_rename_or_delete(api: Api) -> None:
    owner = await api.sign_up()
    admin = await join(api, owner, "ADMIN")
    member = await join(api, owner)
    _, secret = await api.create_key(owner)
    rename = {"input": {"id": owner.organization_id, "name": "Mine"}}
    delete = {"input": {"id": owner.organization_id, "confirmName": "My organization"}}
    for token in (admin.session, member.session, secret, owner.default_key["token"]):
        assert_code(await api.error(RENAME_ORGANIZATION, rename, token=token), "FORBIDDEN")
        assert_code(await api.error(DELETE_ORGANIZATION, delete, token=token), "FORBIDDEN")
    assert_code(await api.error(RENAME_ORGANIZATION, rename), "UNAUTHENTICATED")


async def test_another_organization_is_not_found(api: Api) -> None:
    owner, stranger = await api.sign_up(), await api.sign_up()
    for organization_id in (stranger.organization_id, random_id(), "nope"):
        data = await api.query(
            RENAME_ORGANIZATION,
            {"input": {"id": organization_id, "name": "Mine"}},
            token=owner.session,
        )
        assert data["renameOrganization"]["__typename"] == "OrganizationNotFound"
        data = await api.query(
            DELETE_ORGANIZATION,
            {"input": {"id": organization_id, "confirmName": "My organization"}},
            token=owner.session,
        )
        assert data["deleteOrganization"]["__typename"] == "OrganizationNotFound"
    named = await api.query(
        ORGANIZATION_NAME, {"id": stranger.organization_id}, token=stranger.session
    )
    assert named["organization"]["name"] == "My organization"


async def test_deleting_needs_the_name_typed(api: Api) -> None:
    owner = await api.sign_up()
    for typed in ("", "my organization", "My organizatio"):
        data = await api.query(
            DELETE_ORGANIZATION,
            {"input": {"id": owner.organization_id, "confirmName": typed}},
            token=owner.session,
        )
        result = data["deleteOrganization"]
        assert (result["__typename"], result["field"]) == ("InvalidInput", "confirmName")
    named = await api.query(ORGANIZATION_NAME, {"id": owner.organization_id}, token=owner.session)
    assert named["organization"] is not None


async def test_deleting_takes_everything_with_it_at_once(api: Api, db: None) -> None:
    # given an organization with a member, a secret key and a pending invitation
    owner = await api.sign_up()
    member = await join(api, owner, "ADMIN")
    _, secret = await api.create_key(owner)
    await invite(api, owner, "later@example.com")
    assert (await api.verify(secret))["valid"] is True
    # when the owner deletes it
    data = await api.query(
        DELETE_ORGANIZATION,
        {"input": {"id": owner.organization_id, "confirmName": "My organization"}},
        token=owner.session,
    )
    assert data["deleteOrganization"] == {
        "__typename": "OrganizationDeleted",
        "organizationId": owner.organization_id,
    }
    # then its keys fail at once, and the member's very next request no longer sees it
    assert (await api.verify(secret))["valid"] is False
    assert (await api.verify(owner.default_key["token"]))["valid"] is False
    named = await api.query(ORGANIZATION_NAME, {"id": owner.organization_id}, token=member.session)
    assert named["organization"] is None
    organization_id = uuid.UUID(owner.organization_id)
    for model in (ApiKey, Membership, Invitation):
        assert await model.filter(organization_id=organization_id).count() == 0
    # and the owner, left with no organization, can found one
    me = await api.query(ME, token=owner.session)
    assert me["me"]["organizations"]["edges"] == []
    created = await api.query(
        CREATE_ORGANIZATION, {"input": {"name": "Again"}}, token=owner.session
    )
    assert created["createOrganization"]["__typename"] == "OrganizationCreated"
