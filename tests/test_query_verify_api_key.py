"""Query.verifyApiKey: whether a token is a usable key of the caller's organizations."""

from __future__ import annotations

from tests.harness import Api, Clock
from tests.support import (
    API_KEY,
    VERIFY_API_KEY,
    assert_code,
    assert_unauthorized,
    delete,
    mistyped,
    unknown_token,
)


async def test_a_valid_key(api: Api) -> None:
    # given a key that expires next year
    account = await api.sign_up()
    key, token = await api.create_key(account, expiresAt="2031-01-01T00:00:00Z")
    # when
    data = await api.query(VERIFY_API_KEY, {"token": token}, token=account.session)
    # then
    assert data["verifyApiKey"] == {
        "__typename": "ApiKeyVerification",
        "valid": True,
        "code": "VALID",
        "keyId": key["id"],
        "organizationId": account.organization_id,
        "type": "SECRET",
        "expiresAt": "2031-01-01T00:00:00Z",
    }
    # and the use is recorded
    read = await api.query(API_KEY, {"id": key["id"]}, token=account.session)
    assert read["apiKey"]["lastUsedAt"] == "2030-01-01T12:00:00Z"


INVALID = {
    "__typename": "ApiKeyVerification",
    "keyId": None,
    "organizationId": None,
    "type": None,
    "expiresAt": None,
    "valid": False,
}


async def test_bad_tokens_answer_a_code(api: Api, clock: Clock) -> None:
    # given a malformed, an unknown, a deleted and an expired key
    account = await api.sign_up()
    deleted, deleted_token = await api.create_key(account)
    await delete(api, account.session, deleted["id"])
    _, expired_token = await api.create_key(account, expiresAt="2030-01-01T12:00:01Z")
    clock.advance(seconds=1)
    cases = {
        "MALFORMED": mistyped(account.default_key["token"]),
        "NOT_FOUND": unknown_token(),
        "EXPIRED": expired_token,
    }
    for code, token in [*cases.items(), ("NOT_FOUND", deleted_token), ("MALFORMED", "")]:
        # when
        data = await api.query(VERIFY_API_KEY, {"token": token}, token=account.session)
        # then
        assert data["verifyApiKey"] == {**INVALID, "code": code}, code


async def test_verify_needs_a_credential(api: Api) -> None:
    # given
    account = await api.sign_up()
    # when
    error = await api.error(VERIFY_API_KEY, {"token": account.default_key["token"]})
    # then
    assert_code(error, "UNAUTHENTICATED")


async def test_verify_with_a_bad_credential_is_401(api: Api) -> None:
    # given
    account = await api.sign_up()
    # when
    status, body = await api.raw(
        VERIFY_API_KEY, {"token": account.default_key["token"]}, token=unknown_token()
    )
    # then
    assert_unauthorized(status, body, "NOT_FOUND")


async def test_another_organizations_key_is_not_found_and_not_recorded(api: Api) -> None:
    # given another organization's key
    other = await api.sign_up()
    theirs, their_token = await api.create_key(other)
    account = await api.sign_up()
    for credential in (account.session, account.default_key["token"]):
        # when
        data = await api.query(VERIFY_API_KEY, {"token": their_token}, token=credential)
        # then
        assert data["verifyApiKey"] == {**INVALID, "code": "NOT_FOUND"}
    read = await api.query(API_KEY, {"id": theirs["id"]}, token=other.session)
    assert read["apiKey"]["lastUsedAt"] is None
