"""signOut: ends the caller's session at once, and only that session."""

from __future__ import annotations

from tests.harness import Api
from tests.support import ME, SIGN_OUT, assert_code, assert_unauthorized, mistyped


async def test_sign_out_ends_this_session_at_once(api: Api) -> None:
    # given two sessions of one user
    account = await api.sign_up()
    other_session = await api.sign_in(account.email)
    # when the first signs out
    data = await api.query(SIGN_OUT, token=account.session)
    # then it is refused on its very next request, and the other still works
    assert data == {"signOut": True}
    status, body = await api.raw(ME, token=account.session)
    assert_unauthorized(status, body, "NOT_FOUND")
    assert (await api.query(ME, token=other_session))["me"]["id"] == account.user_id


async def test_signing_out_twice_is_refused(api: Api) -> None:
    # given a session that signed out
    account = await api.sign_up()
    await api.query(SIGN_OUT, token=account.session)
    # when / then
    status, body = await api.raw(SIGN_OUT, token=account.session)
    assert_unauthorized(status, body, "NOT_FOUND")


async def test_sign_out_needs_a_session(api: Api) -> None:
    # given / when
    error = await api.error(SIGN_OUT)
    # then
    assert_code(error, "UNAUTHENTICATED")


async def test_an_api_key_cannot_sign_out(api: Api) -> None:
    # given a secret key
    account = await api.sign_up()
    _, token = await api.create_key(account)
    # when
    error = await api.error(SIGN_OUT, token=token)
    # then
    assert_code(error, "FORBIDDEN")
    assert (await api.query(ME, token=account.session))["me"]["id"] == account.user_id


async def test_sign_out_with_a_bad_credential_is_401(api: Api) -> None:
    # given
    account = await api.sign_up()
    # when
    status, body = await api.raw(SIGN_OUT, token=mistyped(account.session))
    # then the real session is untouched
    assert_unauthorized(status, body, "MALFORMED")
    assert (await api.query(ME, token=account.session))["me"]["id"] == account.user_id


async def test_sign_out_ends_only_the_callers_session(api: Api) -> None:
    # given another user's session
    other = await api.sign_up()
    account = await api.sign_up()
    # when
    await api.query(SIGN_OUT, token=account.session)
    # then
    assert (await api.query(ME, token=other.session))["me"]["id"] == other.user_id
