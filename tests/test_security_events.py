"""`me { securityEvents }`: a user's own log of sign-ups, sign-ins, failed sign-ins, sign-outs
and ended sessions, with where each came from."""

from __future__ import annotations

from typing import Any

from tests.harness import SIGN_IN, Api, Clock
from tests.support import assert_code

SECURITY_EVENTS = """
query Security($first: Int, $after: String) {
  me { securityEvents(first: $first, after: $after) {
    edges { cursor node { id occurredAt action actor { type id name } clientAddress userAgent
            requestId details } }
    pageInfo { hasNextPage endCursor }
  } }
}
"""
SIGN_OUT = "mutation { signOut }"
END_SESSION = """
mutation End($input: EndSessionInput!) { endSession(input: $input) { __typename } }
"""
SESSIONS = "query { sessions { id current } }"


async def _events(api: Api, token: str, **args: Any) -> dict[str, Any]:
    data = await api.query(SECURITY_EVENTS, args, token=token)
    return data["me"]["securityEvents"]  # type: ignore[no-any-return]


async def test_account_events_are_in_the_users_own_log(api: Api, clock: Clock) -> None:
    # given
    account = await api.sign_up("ada@example.com")
    clock.advance(minutes=1)
    response = await api.client.post(
        "/graphql",
        json={"query": SIGN_IN, "variables": {"input": {"email": "ada@example.com",
                                                       "password": "wrong password!"}}},
        headers={"User-Agent": "curl/8.0", "X-Request-Id": "attempt-1"},
    )  # fmt: skip
    assert (await response.json())["data"]["signIn"]["__typename"] == "InvalidCredentials"
    clock.advance(minutes=1)
    second = await api.sign_in("ada@example.com")
    clock.advance(minutes=1)
    sessions = (await api.query(SESSIONS, token=second))["sessions"]
    [other] = [session["id"] for session in sessions if not session["current"]]
    result = await api.query(END_SESSION, {"input": {"id": other}}, token=second)
    assert result["endSession"]["__typename"] == "SessionEnded"
    # when
    page = await _events(api, second)
    # then
    events = [edge["node"] for edge in page["edges"]]
    assert [event["action"] for event in events] == [
        "session.ended",
        "user.signed_in",
        "user.sign_in_failed",
        "user.signed_up",
    ]
    failed = events[2]
    assert failed["actor"] == {"type": "USER", "id": account.user_id, "name": "ada@example.com"}
    assert failed["clientAddress"] == "127.0.0.1"
    assert failed["userAgent"] == "curl/8.0"
    assert failed["requestId"] == "attempt-1"
    assert failed["occurredAt"] == "2030-01-01T12:01:00Z"
    assert events[0]["details"] == {"sessionId": other}
    # and signing out is the last word
    clock.advance(minutes=1)
    assert (await api.query(SIGN_OUT, token=second))["signOut"] is True
    third = await api.sign_in("ada@example.com")
    page = await _events(api, third, first=2)
    assert [edge["node"]["action"] for edge in page["edges"]] == [
        "user.signed_in",
        "user.signed_out",
    ]
    rest = await _events(api, third, first=10, after=page["pageInfo"]["endCursor"])
    assert len(rest["edges"]) == 4
    assert rest["pageInfo"]["hasNextPage"] is False


async def test_an_unknown_email_is_recorded_nowhere_and_others_logs_stay_apart(
    api: Api,
) -> None:
    ada = await api.sign_up()
    bob = await api.sign_up()
    await api.raw(SIGN_IN, {"input": {"email": "nobody@example.com", "password": "x" * 12}})
    await api.raw(SIGN_IN, {"input": {"email": bob.email, "password": "x" * 12}})
    ada_events = [edge["node"]["action"] for edge in (await _events(api, ada.session))["edges"]]
    assert ada_events == ["user.signed_up"]
    bob_events = [edge["node"]["action"] for edge in (await _events(api, bob.session))["edges"]]
    assert bob_events == ["user.sign_in_failed", "user.signed_up"]


async def test_bad_page_sizes_are_refused(api: Api) -> None:
    account = await api.sign_up()
    error = await api.error(SECURITY_EVENTS, {"first": 500}, account.session)
    assert_code(error, "BAD_USER_INPUT")


async def test_an_api_key_has_no_security_log(api: Api) -> None:
    account = await api.sign_up()
    _, token = await api.create_key(account)
    data = await api.query(SECURITY_EVENTS, {}, token=token)
    assert data["me"] is None
