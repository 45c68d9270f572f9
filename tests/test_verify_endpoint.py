"""POST /v1/keys/verify: resource servers ask whether a key is good; problem+json for a request
that is not one; lastUsedAt written at most once per key per minute."""

from __future__ import annotations

from typing import Any

import pytest

from tests.harness import Api, Clock
from tests.support import API_KEY, delete, mistyped, roll, unknown_token


async def test_a_valid_secret_key(api: Api) -> None:
    # given
    account = await api.sign_up()
    key, token = await api.create_key(account, name="billing")
    # when
    response = await api.client.post("/v1/keys/verify", json={"key": token})
    # then
    assert response.status == 200
    assert response.content_type == "application/json"
    assert await response.json() == {
        "valid": True,
        "code": "VALID",
        "keyId": key["id"],
        "organizationId": account.organization_id,
        "type": "SECRET",
        "name": "billing",
        "expiresAt": None,
    }


async def test_a_valid_public_key_with_an_expiry(api: Api) -> None:
    # given
    account = await api.sign_up()
    key, token = await api.create_key(
        account, name="web", type="PUBLIC", expiresAt="2030-06-01T00:00:00Z"
    )
    # when
    result = await api.verify(token)
    # then
    assert (result["type"], result["keyId"], result["name"]) == ("PUBLIC", key["id"], "web")
    assert result["expiresAt"] == "2030-06-01T00:00:00+00:00"


async def test_invalid_keys_answer_200_with_a_code(api: Api, clock: Clock) -> None:
    # given
    account = await api.sign_up()
    deleted, deleted_token = await api.create_key(account)
    await delete(api, account.session, deleted["id"])
    _, expiring = await api.create_key(account, expiresAt="2030-01-01T12:00:01Z")
    clock.advance(seconds=1)
    cases = [
        (mistyped(account.default_key["token"]), "MALFORMED"),
        (account.session, "MALFORMED"),  # a session is not an API key
        ("x" * 512, "MALFORMED"),
        (unknown_token(), "NOT_FOUND"),
        (deleted_token, "NOT_FOUND"),
        (expiring, "EXPIRED"),
    ]
    for token, code in cases:
        # when / then
        assert await api.verify(token) == {"valid": False, "code": code}, code


async def test_a_rolled_key_verifies_with_its_grace_end(api: Api) -> None:
    # given
    account = await api.sign_up()
    key, token = await api.create_key(account)
    await roll(api, account.session, key["id"], gracePeriodSeconds=600)
    # when
    result = await api.verify(token)
    # then
    assert (result["valid"], result["expiresAt"]) == (True, "2030-01-01T12:10:00+00:00")


BAD_REQUESTS: list[tuple[str, Any, str]] = [
    ("not JSON", b"key=abc", "application/json"),
    ("not UTF-8", b'{"key": "\xff"}', "application/json"),
    ("empty", b"", "application/json"),
    ("a list", b'["sk_abc"]', "application/json"),
    ("no key", b'{"token": "sk_abc"}', "application/json"),
    ("a number", b'{"key": 42}', "application/json"),
    ("null", b'{"key": null}', "application/json"),
    ("too long", b'{"key": "' + b"a" * 513 + b'"}', "application/json"),
]


@pytest.mark.parametrize(
    ("what", "body", "content_type"), BAD_REQUESTS, ids=[case[0] for case in BAD_REQUESTS]
)
async def test_a_bad_request_is_a_problem(
    api: Api, what: str, body: bytes, content_type: str
) -> None:
    # given / when
    response = await api.client.post(
        "/v1/keys/verify", data=body, headers={"Content-Type": content_type}
    )
    # then
    assert response.status == 400
    assert response.content_type == "application/problem+json"
    problem = await response.json(content_type=None)
    assert set(problem) == {"type", "title", "status", "detail"}
    assert problem["status"] == 400
    assert problem["title"] and problem["detail"]


async def test_the_endpoint_ignores_the_authorization_header(api: Api) -> None:
    # given a bad bearer token on a verify call
    account = await api.sign_up()
    # when
    response = await api.client.post(
        "/v1/keys/verify",
        json={"key": account.default_key["token"]},
        headers={"Authorization": f"Bearer {unknown_token()}"},
    )
    # then the key in the body is what counts
    assert response.status == 200
    assert (await response.json())["valid"] is True


async def test_the_answer_is_not_cached(api: Api) -> None:
    # given
    account = await api.sign_up()
    # when
    response = await api.client.post("/v1/keys/verify", json={"key": account.default_key["token"]})
    # then a revoked key is never answered from a cache
    assert response.headers["Cache-Control"] == "no-store"


async def last_used(api: Api, token: str, key_id: str) -> str | None:
    data = await api.query(API_KEY, {"id": key_id}, token=token)
    return data["apiKey"]["lastUsedAt"]  # type: ignore[no-any-return]


async def test_last_used_at_is_written_at_most_once_a_minute(api: Api, clock: Clock) -> None:
    # given a key never used
    account = await api.sign_up()
    key, token = await api.create_key(account)
    assert await last_used(api, account.session, key["id"]) is None
    # when it is verified now, 30 s later and 59 s later
    await api.verify(token)
    clock.advance(seconds=30)
    await api.verify(token)
    clock.advance(seconds=29)
    await api.verify(token)
    # then only the first use was written
    assert await last_used(api, account.session, key["id"]) == "2030-01-01T12:00:00Z"
    # and a minute after it, the next use is
    clock.advance(seconds=1)
    await api.verify(token)
    assert await last_used(api, account.session, key["id"]) == "2030-01-01T12:01:00Z"


async def test_failed_verifications_are_not_recorded(api: Api, clock: Clock) -> None:
    # given a key that expired
    account = await api.sign_up()
    key, token = await api.create_key(account, expiresAt="2030-01-01T12:00:01Z")
    clock.advance(seconds=1)
    # when
    assert (await api.verify(token))["code"] == "EXPIRED"
    # then
    assert await last_used(api, account.session, key["id"]) is None


async def test_last_used_at_minute_is_exact_below_the_second(api: Api, clock: Clock) -> None:
    # given a key first used half a second past noon
    account = await api.sign_up()
    key, token = await api.create_key(account)
    clock.advance(microseconds=500_000)
    await api.verify(token)
    # when it is used again just under, then exactly, a minute later
    clock.advance(seconds=59, microseconds=999_999)
    await api.verify(token)
    assert await last_used(api, account.session, key["id"]) == "2030-01-01T12:00:00.500000Z"
    clock.advance(microseconds=1)
    await api.verify(token)
    # then
    assert await last_used(api, account.session, key["id"]) == "2030-01-01T12:01:00.500000Z"


async def test_a_body_over_64_kib_is_a_413_problem(api: Api) -> None:
    # given a body past the request size limit
    body = b'{"key": "' + b"x" * (64 * 1024) + b'"}'
    # when
    response = await api.client.post(
        "/v1/keys/verify", data=body, headers={"Content-Type": "application/json"}
    )
    # then it is refused in the endpoint's own error shape
    assert response.status == 413
    assert response.content_type == "application/problem+json"
    problem = await response.json()
    assert problem["status"] == 413 and problem["title"] == "Content Too Large"
