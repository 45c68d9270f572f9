"""A signed-in user lists their sessions and ends any of them at once; sessions also end by
themselves SESSION_TTL_SECONDS after sign-in."""

from __future__ import annotations

import uuid

from tests.harness import Api, Clock
from tests.support import ME

SESSIONS = "query Sessions { sessions { id createdAt expiresAt current } }"
END_SESSION = """
mutation EndSession($input: EndSessionInput!) {
  endSession(input: $input) {
    __typename
    ... on SessionEnded { endedSessionId }
    ... on Error { message }
  }
}
"""
SIGN_OUT = "mutation SignOut { signOut }"


async def test_a_user_lists_their_sessions_newest_first(api: Api, clock: Clock) -> None:
    # given two sessions
    account = await api.sign_up()
    clock.advance(minutes=1)
    second = await api.sign_in(account.email)
    # when
    data = await api.query(SESSIONS, token=second)
    # then
    sessions = data["sessions"]
    assert [s["current"] for s in sessions] == [True, False]
    assert sessions[0]["createdAt"] == "2030-01-01T12:01:00Z"
    assert sessions[0]["expiresAt"] == "2030-01-02T00:01:00Z"


async def test_another_users_sessions_are_not_listed(api: Api) -> None:
    account = await api.sign_up()
    other = await api.sign_up()
    await api.sign_in(other.email)
    data = await api.query(SESSIONS, token=account.session)
    assert len(data["sessions"]) == 1


async def test_ending_another_session_signs_it_out_at_once(api: Api) -> None:
    # given
    account = await api.sign_up()
    laptop = await api.sign_in(account.email)
    sessions = (await api.query(SESSIONS, token=account.session))["sessions"]
    laptop_id = next(s["id"] for s in sessions if not s["current"])
    # when
    data = await api.query(END_SESSION, {"input": {"id": laptop_id}}, token=account.session)
    # then
    assert data["endSession"] == {"__typename": "SessionEnded", "endedSessionId": laptop_id}
    status, _ = await api.raw(ME, token=laptop)
    assert status == 401
    assert len((await api.query(SESSIONS, token=account.session))["sessions"]) == 1


async def test_another_users_session_is_not_found(api: Api) -> None:
    # given
    account = await api.sign_up()
    other = await api.sign_up()
    other_id = (await api.query(SESSIONS, token=other.session))["sessions"][0]["id"]
    # when
    data = await api.query(END_SESSION, {"input": {"id": other_id}}, token=account.session)
    # then
    assert data["endSession"] == {"__typename": "SessionNotFound", "message": "No such session."}
    assert (await api.query(ME, token=other.session))["me"]["id"] == other.user_id


async def test_unknown_and_malformed_ids_are_not_found(api: Api) -> None:
    account = await api.sign_up()
    for session_id in (str(uuid.uuid4()), "not-a-uuid"):
        data = await api.query(END_SESSION, {"input": {"id": session_id}}, token=account.session)
        assert data["endSession"]["__typename"] == "SessionNotFound"


async def test_sessions_need_a_signed_in_user(api: Api) -> None:
    account = await api.sign_up()
    _, token = await api.create_key(account)
    assert (await api.error(SESSIONS))["extensions"]["code"] == "UNAUTHENTICATED"
    assert (await api.error(SESSIONS, token=token))["extensions"]["code"] == "FORBIDDEN"
    error = await api.error(END_SESSION, {"input": {"id": str(uuid.uuid4())}}, token=token)
    assert error["extensions"]["code"] == "FORBIDDEN"


async def test_sign_out_ends_the_session_at_once(api: Api) -> None:
    account = await api.sign_up()
    assert (await api.query(SIGN_OUT, token=account.session)) == {"signOut": True}
    status, body = await api.raw(ME, token=account.session)
    assert status == 401
    assert body["errors"][0]["extensions"]["reason"] == "NOT_FOUND"


async def test_a_session_ends_after_its_ttl(api: Api, clock: Clock) -> None:
    account = await api.sign_up()
    clock.advance(seconds=43_199)
    assert (await api.query(ME, token=account.session))["me"]["id"] == account.user_id
    clock.advance(seconds=1)
    status, body = await api.raw(ME, token=account.session)
    assert status == 401
    assert body["errors"][0]["extensions"]["reason"] == "EXPIRED"
