"""Verification analytics: counts per key per hour by outcome (`ApiKey.usage`), and uses of
deleted keys (`Organization.revokedKeyUses`), which still answer NOT_FOUND."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web

from models import usage
from models.audit_entities import KeyUsage, RevokedKeyUse
from models.database import database_close, database_open
from models.usage import usage_flush
from tests.harness import Account, Api, Clock
from tests.support import VERIFY_API_KEY, assert_code, delete, roll, unknown_token
from web.state import SETTINGS

USAGE = """
query Usage($id: ID!, $since: DateTime, $until: DateTime, $bucket: UsageBucketSize!) {
  apiKey(id: $id) { usage(since: $since, until: $until, bucket: $bucket) {
    start valid expired total } }
}
"""
REVOKED = """
query Revoked($id: ID, $first: Int, $after: String, $since: DateTime) {
  organization(id: $id) { revokedKeyUses(first: $first, after: $after, since: $since) {
    edges { cursor node { keyId name start deletedAt lastSeenAt lastClientAddress count } }
    pageInfo { hasNextPage endCursor }
  } }
}
"""


async def _verify(api: Api, token: str, client_ip: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"key": token}
    if client_ip is not None:
        body["clientIp"] = client_ip
    response = await api.client.post("/v1/keys/verify", json=body)
    assert response.status == 200
    return await response.json()  # type: ignore[no-any-return]


async def _usage(api: Api, account: Account, key_id: str, **args: Any) -> list[dict[str, Any]]:
    variables = {"id": key_id, "bucket": "HOUR", **args}
    data = await api.query(USAGE, variables, token=account.session)
    return data["apiKey"]["usage"]  # type: ignore[no-any-return]


async def _revoked(api: Api, account: Account, **args: Any) -> dict[str, Any]:
    data = await api.query(REVOKED, {"id": account.organization_id, **args}, account.session)
    return data["organization"]["revokedKeyUses"]  # type: ignore[no-any-return]


async def test_verifications_are_counted_per_hour_by_outcome(
    api: Api, db: None, clock: Clock
) -> None:
    # given a key verified 3 times at noon, then rolled with no grace and sent twice more at 14:10
    account = await api.sign_up()
    key, token = await api.create_key(account)
    for _ in range(3):
        assert (await _verify(api, token))["code"] == "VALID"
    data = await api.query(VERIFY_API_KEY, {"token": token}, token=account.session)
    assert data["verifyApiKey"]["code"] == "VALID"
    clock.advance(hours=2, minutes=10)
    await roll(api, account.session, key["id"], gracePeriodSeconds=0)
    for _ in range(2):
        assert (await _verify(api, token))["code"] == "EXPIRED"
    # when the counts are flushed
    assert await usage_flush() == 2
    # then
    buckets = await _usage(
        api, account, key["id"], since="2030-01-01T11:30:00Z", until="2030-01-01T14:30:00Z"
    )
    assert buckets == [
        {"start": "2030-01-01T11:00:00Z", "valid": 0, "expired": 0, "total": 0},
        {"start": "2030-01-01T12:00:00Z", "valid": 4, "expired": 0, "total": 4},
        {"start": "2030-01-01T13:00:00Z", "valid": 0, "expired": 0, "total": 0},
        {"start": "2030-01-01T14:00:00Z", "valid": 0, "expired": 2, "total": 2},
    ]
    # and a second flush adds to the same rows (one upsert per key, hour and outcome)
    await _verify(api, token)
    await usage_flush()
    assert await KeyUsage.filter(key_id=key["id"]).count() == 2
    days = await _usage(
        api, account, key["id"], bucket="DAY", since="2030-01-01T00:00:00Z",
        until="2030-01-02T00:00:00Z",
    )  # fmt: skip
    assert days == [{"start": "2030-01-01T00:00:00Z", "valid": 4, "expired": 3, "total": 7}]


async def test_a_flush_larger_than_one_statement_writes_every_count(
    api: Api, db: None, clock: Clock
) -> None:
    # given one key verified once an hour for 300 hours: 300 (key, hour) counts, more rows than
    # one upsert statement takes
    account = await api.sign_up()
    key, token = await api.create_key(account)
    hours = usage.ROWS_PER_STATEMENT + 50
    for _ in range(hours):
        assert (await _verify(api, token))["code"] == "VALID"
        clock.advance(hours=1)
    # when they are flushed
    assert await usage_flush() == hours
    # then every hour was written, once
    assert await KeyUsage.filter(key_id=key["id"]).count() == hours
    account.session = await api.sign_in(account.email)  # 300 hours outlive a session
    days = await _usage(
        api, account, key["id"], bucket="DAY", since="2030-01-01T00:00:00Z",
        until="2030-01-16T00:00:00Z",
    )  # fmt: skip
    assert sum(day["valid"] for day in days) == hours
    assert days[0]["valid"] == 12 and days[1]["valid"] == 24  # from noon on the first day


async def test_by_default_the_last_seven_days_by_the_hour(api: Api, db: None) -> None:
    account = await api.sign_up()
    buckets = await _usage(api, account, account.default_key["id"])
    assert len(buckets) == 7 * 24
    assert buckets[-1]["start"] == "2030-01-01T11:00:00Z"


async def test_bad_windows_are_refused(api: Api) -> None:
    account = await api.sign_up()
    key_id = account.default_key["id"]
    for args in (
        {"since": "2030-01-02T00:00:00Z", "until": "2030-01-01T00:00:00Z"},
        {"since": "2020-01-01T00:00:00Z"},
        {"since": "2030-01-01T00:00:00"},
    ):
        variables = {"id": key_id, "bucket": "HOUR", **args}
        error = await api.error(USAGE, variables, account.session)
        assert_code(error, "BAD_USER_INPUT")


async def test_a_deleted_key_still_sent_is_shown_to_its_owner_not_its_sender(
    api: Api, db: None, clock: Clock
) -> None:
    # given
    account = await api.sign_up()
    key, token = await api.create_key(account, name="Old CI key")
    clock.advance(minutes=1)
    await delete(api, account.session, key["id"])
    # when some forgotten server keeps sending it
    clock.advance(days=2)
    for n in range(3):
        clock.advance(minutes=1)
        assert await _verify(api, token, client_ip=f"203.0.113.{n + 5}") == {
            "valid": False,
            "code": "NOT_FOUND",
        }
    await usage_flush()
    # then (the owner signs in again: two days have passed)
    account.session = await api.sign_in(account.email)
    page = await _revoked(api, account)
    [use] = [edge["node"] for edge in page["edges"]]
    assert use == {
        "keyId": key["id"],
        "name": "Old CI key",
        "start": key["start"],
        "deletedAt": "2030-01-01T12:01:00Z",
        "lastSeenAt": "2030-01-03T12:04:00Z",
        "lastClientAddress": "203.0.113.7",
        "count": 3,
    }
    recent = await _revoked(api, account, since="2030-01-03T12:00:00Z")
    assert recent["edges"][0]["node"]["count"] == 3
    assert (await _revoked(api, account, since="2030-01-03T13:00:00Z"))["edges"] == []


async def test_unknown_tokens_and_other_organizations_are_recorded_nowhere(
    api: Api, db: None
) -> None:
    owner = await api.sign_up()
    stranger = await api.sign_up()
    key, token = await api.create_key(owner)
    await delete(api, owner.session, key["id"])
    assert (await _verify(api, unknown_token()))["code"] == "NOT_FOUND"
    # verifyApiKey is scoped to the caller's organizations: a stranger's check is not a use
    data = await api.query(VERIFY_API_KEY, {"token": token}, token=stranger.session)
    assert data["verifyApiKey"]["code"] == "NOT_FOUND"
    await usage_flush()
    assert await RevokedKeyUse.all().count() == 0
    assert (await _revoked(api, owner))["edges"] == []


async def test_a_valid_verification_never_looks_for_a_tombstone(api: Api, db: None) -> None:
    account = await api.sign_up()
    _, token = await api.create_key(account)
    assert (await _verify(api, token))["code"] == "VALID"
    assert usage._state().unknown == {}
    assert (await _verify(api, unknown_token()))["code"] == "NOT_FOUND"
    assert len(usage._state().unknown) == 1  # checked at the next flush, not on the request


async def test_a_flood_of_made_up_tokens_is_bounded(
    api: Api, db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(usage, "MAX_PENDING_DIGESTS", 3)
    for _ in range(5):
        assert (await _verify(api, unknown_token()))["code"] == "NOT_FOUND"
    assert (len(usage._state().unknown), usage._state().dropped) == (3, 2)
    await usage_flush()
    assert (usage._state().unknown, usage._state().dropped) == ({}, 0)


async def test_revoked_uses_page_most_recent_first(api: Api, db: None, clock: Clock) -> None:
    account = await api.sign_up()
    tokens = []
    for n in range(3):
        key, token = await api.create_key(account, name=f"old {n}")
        await delete(api, account.session, key["id"])
        tokens.append(token)
    for token in tokens:
        clock.advance(minutes=1)
        await _verify(api, token)
    await usage_flush()
    first = await _revoked(api, account, first=2)
    assert [edge["node"]["name"] for edge in first["edges"]] == ["old 2", "old 1"]
    assert first["pageInfo"]["hasNextPage"] is True
    rest = await _revoked(api, account, first=2, after=first["pageInfo"]["endCursor"])
    assert [edge["node"]["name"] for edge in rest["edges"]] == ["old 0"]
    assert rest["pageInfo"]["hasNextPage"] is False
    error = await api.error(REVOKED, {"id": account.organization_id, "first": 0}, account.session)
    assert_code(error, "BAD_USER_INPUT")


async def test_counts_are_flushed_at_shutdown(api: Api, app: web.Application, clock: Clock) -> None:
    account = await api.sign_up()
    _, token = await api.create_key(account)
    await _verify(api, token)
    await api.client.close()  # the app shuts down: its last flush writes the count
    ctx = await database_open(app[SETTINGS].database_url)
    try:
        with ctx:
            counts = await KeyUsage.filter(outcome="VALID").values_list("count", flat=True)
            assert list(counts) == [1]  # type: ignore[comparison-overlap]
    finally:
        await database_close(ctx)


async def test_a_bad_client_ip_is_refused(api: Api) -> None:
    response = await api.client.post(
        "/v1/keys/verify", json={"key": unknown_token(), "clientIp": 5}
    )
    assert response.status == 400
    assert response.content_type == "application/problem+json"
