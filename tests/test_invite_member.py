"""inviteMember and revokeInvitation: who may invite whom, the token shown once, re-inviting
replaces, revoking ends the link; `Organization.invitations` lists them."""

from __future__ import annotations

import uuid

import pytest

from models import tokens
from models.entities import Invitation
from tests.harness import Api, Clock
from tests.support import assert_code, random_id
from tests.team_support import (
    ACCEPT_INVITATION,
    INVITE_MEMBER,
    MEMBERS,
    REVOKE_INVITATION,
    accept,
    invite,
    join,
)


async def test_invite_a_member(api: Api, clock: Clock, db: None) -> None:
    # given an owner
    owner = await api.sign_up()
    # when they invite an email
    result = await invite(api, owner, "  Ada@Example.com ", "ADMIN")
    # then the invitation is pending, with its token shown once and a link to the dashboard
    assert result["__typename"] == "MemberInvited", result
    token = result["invitationToken"]
    assert tokens.parse(token) is tokens.TokenKind.INVITATION
    assert result["invitationLink"] == f"http://127.0.0.1:8000/#invitation={token}"
    assert result["mailed"] is False
    invitation = result["invitation"]
    assert (invitation["email"], invitation["role"], invitation["status"]) == (
        "Ada@Example.com",
        "ADMIN",
        "PENDING",
    )
    assert invitation["expiresAt"] == "2030-01-08T12:00:00Z"  # a week, by default
    assert invitation["invitedBy"]["id"] == owner.user_id
    # and only its digest is stored
    row = await Invitation.get(id=uuid.UUID(invitation["id"]))
    assert row.digest == tokens.digest(token)
    assert token not in str(await Invitation.all().values())
    # and the organization lists it
    data = await api.query(MEMBERS, {"id": owner.organization_id}, token=owner.session)
    assert [i["id"] for i in data["organization"]["invitations"]] == [invitation["id"]]


@pytest.mark.parametrize("email", ["", "not-an-email", "a@b", "x" * 250 + "@example.com"])
async def test_a_bad_email_is_invalid_input(api: Api, email: str) -> None:
    owner = await api.sign_up()
    result = await invite(api, owner, email)
    assert (result["__typename"], result["field"]) == ("InvalidInput", "email")


async def test_inviting_a_member_again_is_already_member(api: Api) -> None:
    # given a member (and the owner themself)
    owner = await api.sign_up()
    member = await join(api, owner)
    # when either is invited, in any case
    for email in (member.email.upper(), owner.email):
        result = await invite(api, owner, email)
        # then
        assert result["__typename"] == "AlreadyMember", result


async def test_inviting_again_replaces_the_pending_invitation(api: Api) -> None:
    # given a pending invitation
    owner = await api.sign_up()
    person = await api.sign_up()
    first = await invite(api, owner, person.email)
    # when the same email is invited again
    second = await invite(api, owner, person.email.upper(), "ADMIN")
    # then only the new invitation is pending, and the old token no longer works
    data = await api.query(MEMBERS, {"id": owner.organization_id}, token=owner.session)
    assert [i["id"] for i in data["organization"]["invitations"]] == [second["invitation"]["id"]]
    old = await accept(api, person.session, first["invitationToken"])
    assert old["__typename"] == "InvitationNotFound"
    new = await accept(api, person.session, second["invitationToken"])
    assert (new["__typename"], new["role"]) == ("InvitationAccepted", "ADMIN")


async def test_who_may_invite_whom(api: Api) -> None:
    # given an owner, an admin and a member
    owner = await api.sign_up()
    admin = await join(api, owner, "ADMIN")
    member = await join(api, owner, "MEMBER")
    # then an admin invites members and admins, not owners
    assert (await invite(api, admin, "m@example.com", "MEMBER"))["__typename"] == "MemberInvited"
    assert (await invite(api, admin, "a@example.com", "ADMIN"))["__typename"] == "MemberInvited"
    for inviter, role in ((admin, "OWNER"), (member, "MEMBER")):
        variables = {
            "input": {
                "organizationId": owner.organization_id,
                "email": "o@example.com",
                "role": role,
            }
        }
        error = await api.error(INVITE_MEMBER, variables, token=inviter.session)
        assert_code(error, "FORBIDDEN")
    # and an owner invites owners
    assert (await invite(api, owner, "o@example.com", "OWNER"))["__typename"] == "MemberInvited"


async def test_another_organization_is_not_found(api: Api) -> None:
    owner, stranger = await api.sign_up(), await api.sign_up()
    for organization_id in (stranger.organization_id, random_id(), "not-an-id"):
        result = await invite(api, owner, "x@example.com", organization_id=organization_id)
        assert result["__typename"] == "OrganizationNotFound"


async def test_keys_and_anonymous_may_not_invite(api: Api) -> None:
    owner = await api.sign_up()
    _, secret = await api.create_key(owner)
    variables = {"input": {"organizationId": owner.organization_id, "email": "x@example.com"}}
    assert_code(await api.error(INVITE_MEMBER, variables), "UNAUTHENTICATED")
    for token in (secret, owner.default_key["token"]):
        assert_code(await api.error(INVITE_MEMBER, variables, token=token), "FORBIDDEN")


async def test_revoke_an_invitation(api: Api) -> None:
    # given a pending invitation made by the owner
    owner = await api.sign_up()
    admin = await join(api, owner, "ADMIN")
    person = await api.sign_up()
    invited = await invite(api, owner, person.email)
    # when an admin revokes it
    data = await api.query(
        REVOKE_INVITATION, {"input": {"id": invited["invitation"]["id"]}}, token=admin.session
    )
    # then it is revoked, no longer pending, and its link no longer works
    result = data["revokeInvitation"]
    assert result["__typename"] == "InvitationRevoked"
    assert result["invitation"]["status"] == "REVOKED"
    listed = await api.query(MEMBERS, {"id": owner.organization_id}, token=owner.session)
    assert listed["organization"]["invitations"] == []
    revoked = await api.query(
        MEMBERS, {"id": owner.organization_id, "status": "REVOKED"}, token=owner.session
    )
    assert [i["status"] for i in revoked["organization"]["invitations"]] == ["REVOKED"]
    assert (await accept(api, person.session, invited["invitationToken"]))[
        "__typename"
    ] == "InvitationNotFound"
    # and revoking it again finds nothing pending
    again = await api.query(
        REVOKE_INVITATION, {"input": {"id": invited["invitation"]["id"]}}, token=admin.session
    )
    assert again["revokeInvitation"]["__typename"] == "InvitationNotFound"


async def test_revoking_another_organizations_invitation_is_not_found(api: Api) -> None:
    owner, stranger = await api.sign_up(), await api.sign_up()
    invited = await invite(api, owner, "x@example.com")
    for invitation_id in (invited["invitation"]["id"], random_id(), "nope"):
        data = await api.query(
            REVOKE_INVITATION, {"input": {"id": invitation_id}}, token=stranger.session
        )
        assert data["revokeInvitation"]["__typename"] == "InvitationNotFound"
    # and a member of the organization may see it but not revoke it
    member = await join(api, owner)
    error = await api.error(
        REVOKE_INVITATION, {"input": {"id": invited["invitation"]["id"]}}, token=member.session
    )
    assert_code(error, "FORBIDDEN")
    assert ACCEPT_INVITATION  # (the accept side is in test_accept_invitation.py)
