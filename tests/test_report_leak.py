"""POST /v1/keys/report-leak: anyone may report tokens they found. A live secret key among them is
handled as GitHub's report would be (revoked, by actor REPORTER, source `report`); nothing else
is touched; the answer never says which tokens matched; one address is limited per hour."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from models.audit_entities import AuditEvent, KeyLeak
from settings import Settings
from tests.harness import FAST_PASSWORDS, Api, Clock
from tests.leak_support import REPORT_PATH, report
from tests.support import unknown_token


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        leak_reports_per_hour=3,
        **FAST_PASSWORDS,  # type: ignore[arg-type]
    )


async def test_a_reported_secret_key_is_revoked_and_the_answer_tells_nothing(
    api: Api, client: TestClient[Any, Any], db: None
) -> None:
    # given an owner's secret key and public key
    owner = await api.sign_up()
    key, secret = await api.create_key(owner)
    _, public = await api.create_key(owner, "web", "PUBLIC")
    # when someone reports the secret key, then the public key, then a token never issued
    answers = [await report(client, token) for token in (secret, public, unknown_token())]
    # then every answer is the same 202
    assert answers == [(202, {"received": 1})] * 3
    # and only the secret key is revoked, recorded as reported
    assert (await api.verify(secret))["code"] == "NOT_FOUND"
    assert (await api.verify(public))["valid"] is True
    [leak] = await KeyLeak.all()
    assert (str(leak.key_id), leak.source, leak.reporter, leak.url, leak.revoked) == (
        key["id"],
        "report",
        "REPORTER",
        None,
        True,
    )
    [event] = await AuditEvent.filter(
        organization_id=uuid.UUID(owner.organization_id), action="api_key.leaked"
    )
    assert event.actor_type == "REPORTER" and event.client_address == "127.0.0.1"


async def test_an_expired_secret_key_is_not_live_and_is_left_alone(
    api: Api, client: TestClient[Any, Any], clock: Clock, db: None
) -> None:
    # given a secret key that has expired
    owner = await api.sign_up()
    expires = clock.now + timedelta(minutes=5)
    _, secret = await api.create_key(owner, expiresAt=expires.isoformat())
    clock.advance(minutes=10)
    # when it is reported
    status, _ = await report(client, secret)
    # then nothing is recorded
    assert status == 202
    assert await KeyLeak.all().count() == 0


async def test_one_address_is_limited_per_hour(client: TestClient[Any, Any], clock: Clock) -> None:
    # given an address that used its three reports of the hour
    for _ in range(3):
        assert (await report(client, unknown_token()))[0] == 202
    # when it reports again
    response = await client.post(REPORT_PATH, json={"tokens": [unknown_token()]})
    # then it is told to wait, and may report again an hour later
    assert response.status == 429
    assert response.content_type == "application/problem+json"
    assert 0 < int(response.headers["Retry-After"]) <= 3600
    clock.advance(hours=1, seconds=1)
    assert (await report(client, unknown_token()))[0] == 202


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"tokens": []},
        {"tokens": "sk_x"},
        {"tokens": [1]},
        {"tokens": ["x"] * 101},
        {"tokens": ["x" * 600]},
    ],
)
async def test_bad_bodies_are_400(client: TestClient[Any, Any], body: dict[str, Any]) -> None:
    # when
    response = await client.post(REPORT_PATH, json=body)
    # then
    assert response.status == 400
    assert "token" in (await response.json())["detail"].lower()


async def test_a_body_that_is_not_json_is_415(client: TestClient[Any, Any]) -> None:
    # when
    response = await client.post(REPORT_PATH, data="tokens=sk_x")
    # then
    assert response.status == 415
