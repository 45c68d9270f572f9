"""signIn: a new session for the right email and password; wrong password and unknown email
answer alike."""

from __future__ import annotations

from tests.harness import PASSWORD, SIGN_IN, SIGN_UP, Api, nodes
from tests.support import ME, assert_unauthorized, keys_of, unknown_token

SIGN_IN_USER = """
mutation SignInUser($input: SignInInput!) {
  signIn(input: $input) {
    __typename ... on SignedIn { user { id organizations { edges { node { id } } } } }
  }
}
"""


async def test_sign_in_starts_a_new_session(api: Api) -> None:
    # given an account
    account = await api.sign_up("ada@example.com")
    # when
    data = await api.query(SIGN_IN, {"input": {"email": " ADA@example.com ", "password": PASSWORD}})
    # then
    result = data["signIn"]
    assert result["__typename"] == "SignedIn"
    session = result["sessionToken"]
    assert session.startswith("ses_") and session != account.session
    me = await api.query(ME, token=session)
    assert me["me"]["id"] == account.user_id
    assert me["me"]["email"] == "ada@example.com"
    # and the first session still works
    assert (await api.query(ME, token=account.session))["me"]["id"] == account.user_id


async def test_sign_in_returns_the_user(api: Api) -> None:
    # given
    account = await api.sign_up()
    # when
    data = await api.query(SIGN_IN_USER, {"input": {"email": account.email, "password": PASSWORD}})
    # then
    assert data["signIn"] == {
        "__typename": "SignedIn",
        "user": {
            "id": account.user_id,
            "organizations": {"edges": [{"node": {"id": account.organization_id}}]},
        },
    }


async def test_a_wrong_password_and_an_unknown_email_answer_alike(api: Api) -> None:
    # given
    account = await api.sign_up()
    # when
    wrong = await api.query(SIGN_IN, {"input": {"email": account.email, "password": "nope-nope"}})
    unknown = await api.query(
        SIGN_IN, {"input": {"email": "nobody@example.com", "password": PASSWORD}}
    )
    # then
    assert wrong == unknown
    assert wrong["signIn"]["__typename"] == "InvalidCredentials"
    assert wrong["signIn"]["message"]


async def test_bad_input_is_invalid_credentials(api: Api) -> None:
    # given / when an empty email and password
    data = await api.query(SIGN_IN, {"input": {"email": "", "password": ""}})
    # then
    assert data["signIn"]["__typename"] == "InvalidCredentials"


async def test_another_users_password_does_not_open_an_account(api: Api) -> None:
    # given ada, and bob with another password
    ada = await api.sign_up()
    bob_password = "bob's own long password"
    bob = await api.query(
        SIGN_UP, {"input": {"email": "bob@example.com", "password": bob_password}}
    )
    assert bob["signUp"]["__typename"] == "SignedIn"
    # when someone signs in as ada with bob's password
    data = await api.query(SIGN_IN, {"input": {"email": ada.email, "password": bob_password}})
    # then
    assert data["signIn"]["__typename"] == "InvalidCredentials"
    assert await api.sign_in("bob@example.com", bob_password)


async def test_sign_in_refuses_a_bad_credential(api: Api) -> None:
    # given an account and a made-up bearer token
    account = await api.sign_up()
    # when
    status, body = await api.raw(
        SIGN_IN, {"input": {"email": account.email, "password": PASSWORD}}, token=unknown_token()
    )
    # then
    assert_unauthorized(status, body, "NOT_FOUND")


async def test_a_session_sees_only_its_users_organizations(api: Api) -> None:
    # given two accounts
    ada = await api.sign_up()
    other = await api.sign_up()
    # when ada signs in
    session = await api.sign_in(ada.email)
    # then the other organization does not exist for her
    assert await keys_of(api, session, ada.organization_id)
    data = await api.query(ME, token=session)
    assert [o["id"] for o in nodes(data["me"]["organizations"])] == [ada.organization_id]
    assert other.organization_id not in {o["id"] for o in nodes(data["me"]["organizations"])}
