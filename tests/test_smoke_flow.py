"""The seed's main flow, end to end over HTTP."""

from __future__ import annotations

from tests.harness import Api, Clock

ROLL = """
mutation Roll($input: RollApiKeyInput!) {
  rollApiKey(input: $input) {
    __typename
    ... on ApiKeyRolled { token apiKey { id status } rolledApiKey { id status expiresAt } }
    ... on Error { message }
  }
}
"""
DELETE = """
mutation Delete($input: DeleteApiKeyInput!) {
  deleteApiKey(input: $input) { __typename ... on ApiKeyDeleted { deletedApiKeyId } }
}
"""


async def test_sign_up_create_roll_delete(api: Api, clock: Clock) -> None:
    # given a new account
    account = await api.sign_up()
    assert account.default_key["isDefault"] is True
    assert account.default_key["type"] == "PUBLIC"
    assert (await api.verify(account.default_key["token"]))["valid"] is True
    # when a secret key is created and rolled
    key, token = await api.create_key(account)
    assert key["token"] is None
    rolled = (await api.query(ROLL, {"input": {"id": key["id"]}}, token=account.session))[
        "rollApiKey"
    ]
    # then both keys verify through the grace period
    assert rolled["__typename"] == "ApiKeyRolled"
    assert rolled["rolledApiKey"]["status"] == "ROLLED"
    assert (await api.verify(token))["valid"] is True
    assert (await api.verify(rolled["token"]))["valid"] is True
    clock.advance(hours=12)
    assert (await api.verify(token)) == {"valid": False, "code": "EXPIRED"}
    # and a deleted key is refused on the very next request (the 12-hour session ended too)
    session = await api.sign_in(account.email)
    deleted = await api.query(DELETE, {"input": {"id": rolled["apiKey"]["id"]}}, token=session)
    assert deleted["deleteApiKey"]["__typename"] == "ApiKeyDeleted"
    assert (await api.verify(rolled["token"])) == {"valid": False, "code": "NOT_FOUND"}
