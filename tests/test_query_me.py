"""Query.me: the signed-in user and their organizations; null for anyone else."""

from __future__ import annotations

from models.entities import Role
from tests.harness import Api, Clock, nodes
from tests.support import CREATE_ORGANIZATION, ME, add_member, assert_unauthorized, unknown_token


async def test_me_is_the_signed_in_user(api: Api, clock: Clock) -> None:
    # given a user with a second organization
    account = await api.sign_up("ada@example.com", organizationName="Acme")
    clock.advance(minutes=1)
    await api.query(CREATE_ORGANIZATION, {"input": {"name": "Beta"}}, token=account.session)
    # when
    data = await api.query(ME, token=account.session)
    # then
    me = data["me"]
    assert (me["__typename"], me["id"], me["email"]) == ("User", account.user_id, "ada@example.com")
    assert me["createdAt"] == "2030-01-01T12:00:00Z"
    assert [(o["name"], o["viewerRole"]) for o in nodes(me["organizations"])] == [
        ("Acme", "OWNER"),
        ("Beta", "OWNER"),
    ]


async def test_me_lists_memberships_with_their_role(api: Api, db: None, clock: Clock) -> None:
    # given a user who is also a MEMBER elsewhere
    owner = await api.sign_up(organizationName="Theirs")
    account = await api.sign_up(organizationName="Mine")
    await add_member(account, owner.organization_id, Role.MEMBER)
    # when
    data = await api.query(ME, token=account.session)
    # then
    roles = {o["name"]: o["viewerRole"] for o in nodes(data["me"]["organizations"])}
    assert roles == {"Mine": "OWNER", "Theirs": "MEMBER"}


async def test_me_is_null_without_a_credential(api: Api) -> None:
    # given / when / then
    assert await api.query(ME) == {"me": None}


async def test_me_is_null_for_an_api_key(api: Api) -> None:
    # given a secret key
    account = await api.sign_up()
    _, token = await api.create_key(account)
    # when / then
    assert await api.query(ME, token=token) == {"me": None}


async def test_me_with_a_bad_credential_is_401(api: Api) -> None:
    # given / when
    status, body = await api.raw(ME, token=unknown_token())
    # then
    assert_unauthorized(status, body, "NOT_FOUND")


async def test_me_never_shows_another_user(api: Api) -> None:
    # given two users
    ada = await api.sign_up()
    bob = await api.sign_up()
    # when
    data = await api.query(ME, token=bob.session)
    # then
    assert data["me"]["id"] == bob.user_id != ada.user_id
    assert ada.organization_id not in {o["id"] for o in nodes(data["me"]["organizations"])}
