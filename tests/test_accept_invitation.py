"""acceptInvitation: only the invited email's account joins, once, while the invitation is
pending; everything else is InvitationNotFound."""

from __future__ import annotations

from models import tokens
from tests.harness import Api, Clock
from tests.support import ORGANIZATION_NAME, assert_code, unknown_token
from tests.team_support import ACCEPT_INVITATION, accept, invite, members_of


async def test_accept_an_invitation(api: Api, clock: Clock) -> None:
    # given an invitation to an email whose account signs up with another case
    owner = await api.sign_up()
    invited = await invite(api, owner, "Grace.Hopper@Example.com", "ADMIN")
    person = await api.sign_up("grace.hopper@example.COM")
    clock.advance(hours=1)
    # when that person accepts it
    result = await accept(api, person.session, invited["invitationToken"])
    # then they are an ADMIN of the organization, from now on
    assert result["__typename"] == "InvitationAccepted", result
    assert result["role"] == "ADMIN"
    organization = result["organization"]
    assert (organization["id"], organization["viewerRole"]) == (owner.organization_id, "ADMIN")
    assert "MANAGE_MEMBERS" in organization["viewerPermissions"]
    assert "MANAGE_OWNERS" not in organization["viewerPermissions"]
    assert await members_of(api, person.session, owner.organization_id) == {
        owner.user_id: "OWNER",
        person.user_id: "ADMIN",
    }
    # and the invitation is no longer pending
    data = await api.query(
        "query Q($id: ID) { organization(id: $id) { invitations(status: null) { status } } }",
        {"id": owner.organization_id},
        token=owner.session,
    )
    assert data["organization"]["invitations"] == [{"status": "ACCEPTED"}]


async def test_only_the_invited_email_may_accept(api: Api) -> None:
    # given an invitation to someone else's email
    owner = await api.sign_up()
    invited = await invite(api, owner, "someone@example.com")
    intruder = await api.sign_up()
    # when another account tries it
    result = await accept(api, intruder.session, invited["invitationToken"])
    # then it is not found, and the intruder sees nothing of the organization
    assert result["__typename"] == "InvitationNotFound"
    data = await api.query(ORGANIZATION_NAME, {"id": owner.organization_id}, token=intruder.session)
    assert data["organization"] is None


async def test_accepting_twice_is_not_found(api: Api) -> None:
    owner = await api.sign_up()
    person = await api.sign_up()
    invited = await invite(api, owner, person.email)
    assert (await accept(api, person.session, invited["invitationToken"]))[
        "__typename"
    ] == "InvitationAccepted"
    again = await accept(api, person.session, invited["invitationToken"])
    assert again["__typename"] == "InvitationNotFound"


async def test_an_expired_invitation_is_not_found(api: Api, clock: Clock) -> None:
    # given an invitation, a moment before and at its end (a week)
    owner = await api.sign_up()
    person = await api.sign_up()
    invited = await invite(api, owner, person.email)
    clock.advance(days=7)
    # when accepted at its end (in a new session: the first has ended by then)
    session = await api.sign_in(person.email)
    result = await accept(api, session, invited["invitationToken"])
    # then
    assert result["__typename"] == "InvitationNotFound"
    data = await api.query(
        "query Q($id: ID) { organization(id: $id) { invitations(status: EXPIRED) { status } } }",
        {"id": owner.organization_id},
        token=await api.sign_in(owner.email),
    )
    assert data["organization"]["invitations"] == [{"status": "EXPIRED"}]


async def test_a_made_up_or_mistyped_token_is_not_found(api: Api) -> None:
    person = await api.sign_up()
    for token in ("", "inv_nope", unknown_token(tokens.TokenKind.INVITATION), person.session):
        result = await accept(api, person.session, token)
        assert result["__typename"] == "InvitationNotFound"


async def test_accepting_needs_a_signed_in_user(api: Api) -> None:
    owner = await api.sign_up()
    invited = await invite(api, owner, "x@example.com")
    _, secret = await api.create_key(owner)
    variables = {"input": {"token": invited["invitationToken"]}}
    assert_code(await api.error(ACCEPT_INVITATION, variables), "UNAUTHENTICATED")
    assert_code(await api.error(ACCEPT_INVITATION, variables, token=secret), "FORBIDDEN")


async def test_an_invitation_token_is_no_credential(api: Api) -> None:
    owner = await api.sign_up()
    invited = await invite(api, owner, "x@example.com")
    status, body = await api.raw("query { me { id } }", token=invited["invitationToken"])
    assert status == 401, body
