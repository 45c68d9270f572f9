"""`/metrics` after known traffic: exact counts by outcome, populated histograms, route
templates as labels, and nothing personal in any label."""

from __future__ import annotations

import re
import uuid
from dataclasses import replace
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import unused_port
from prometheus_client import CollectorRegistry, Counter, Histogram

import web.verify as verify_module
from server import create_app
from settings import Settings, SettingsError
from telemetry.metrics import held_inc, held_observe, metrics_fold
from tests.harness import Api, Clock
from tests.metrics_support import METRICS_TOKEN, delta, metrics_app, parse, scrape, scrape_text
from tests.support import VERIFY_API_KEY, mistyped, unknown_token

VERIFICATIONS = "keyward_key_verifications_total"
GRAPHQL = "keyward_graphql_operations_total"
DEEP_QUERY = (
    "{ me { organizations { edges { node { apiKeys { edges { node { "
    + "replacedBy { " * 8
    + "id"
    + " }" * 8
    + " } } } } } } } }"
)


@pytest.fixture
def app(settings: Settings, clock: Clock) -> web.Application:
    return metrics_app(settings, clock)


async def test_metrics_is_404_without_the_setting(settings: Settings, aiohttp_client: Any) -> None:
    # given the default: no METRICS_TOKEN, no METRICS_PORT
    client = await aiohttp_client(create_app(settings))
    # when
    response = await client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    # then
    assert response.status == 404


@pytest.mark.parametrize(
    "authorization",
    [None, f"Bearer {METRICS_TOKEN}x", f"Basic {METRICS_TOKEN}", "Bearer ", METRICS_TOKEN],
)
async def test_metrics_is_401_without_the_right_token(api: Api, authorization: str | None) -> None:
    # when
    headers = {} if authorization is None else {"Authorization": authorization}
    response = await api.client.get("/metrics", headers=headers)
    # then
    assert response.status == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.content_type == "application/problem+json"
    assert "keyward_" not in await response.text()


JSON = {"Content-Type": "application/json"}


async def test_verify_outcomes_are_counted_exactly(api: Api, clock: Clock) -> None:
    # given a valid secret key, two keys that will have expired, and a scrape before
    account = await api.sign_up()
    _, valid = await api.create_key(account)
    expiring = [
        (await api.create_key(account, expiresAt="2030-01-01T12:01:00Z"))[1] for _ in range(2)
    ]
    clock.advance(minutes=2)
    before = await scrape(api.client)
    # when three VALID, two EXPIRED, one MALFORMED, one NOT_FOUND and three problems
    for _ in range(3):
        assert (await api.verify(valid))["code"] == "VALID"
    for token in expiring:
        assert (await api.verify(token))["code"] == "EXPIRED"
    assert (await api.verify(mistyped(valid)))["code"] == "MALFORMED"
    assert (await api.verify(unknown_token()))["code"] == "NOT_FOUND"
    problems = [
        await api.client.post("/v1/keys/verify", data=b"not json", headers=JSON),
        await api.client.post("/v1/keys/verify", json={"token": valid}),
        await api.client.post("/v1/keys/verify", data=b"x" * (65 * 1024), headers=JSON),
    ]
    assert [response.status for response in problems] == [400, 400, 413]
    after = await scrape(api.client)
    # then those numbers, by outcome and key type
    counted = {
        (outcome, key_type): delta(before, after, VERIFICATIONS, outcome=outcome, key_type=key_type)
        for outcome in ("VALID", "EXPIRED", "MALFORMED", "NOT_FOUND", "BAD_REQUEST")
        for key_type in ("SECRET", "PUBLIC", "UNKNOWN")
    }
    counted["CONTENT_TOO_LARGE", "UNKNOWN"] = delta(
        before, after, VERIFICATIONS, outcome="CONTENT_TOO_LARGE", key_type="UNKNOWN"
    )
    assert {key: count for key, count in counted.items() if count} == {
        ("VALID", "SECRET"): 3,
        ("EXPIRED", "SECRET"): 2,
        ("MALFORMED", "UNKNOWN"): 1,
        ("NOT_FOUND", "SECRET"): 1,
        ("BAD_REQUEST", "UNKNOWN"): 2,
        ("CONTENT_TOO_LARGE", "UNKNOWN"): 1,
    }
    # and the histograms hold every request
    assert delta(before, after, "keyward_key_verification_duration_seconds_count") == 10
    assert delta(before, after, "keyward_key_verification_duration_seconds_sum") > 0
    http = {"method": "POST", "route": "/v1/keys/verify"}
    assert delta(before, after, "http_server_request_duration_seconds_count", **http,
                 status_code="200") == 7  # fmt: skip
    assert delta(before, after, "http_server_request_duration_seconds_count", **http,
                 status_code="400") == 2  # fmt: skip
    assert delta(before, after, "http_server_request_duration_seconds_bucket", **http,
                 status_code="200", le="10.0") == 7  # fmt: skip


async def test_verify_api_key_in_graphql_is_counted(api: Api) -> None:
    # given
    account = await api.sign_up()
    _, token = await api.create_key(account)
    before = await scrape(api.client)
    # when
    await api.query(VERIFY_API_KEY, {"token": token}, token=token)
    await api.query(VERIFY_API_KEY, {"token": "nope"}, token=token)
    after = await scrape(api.client)
    # then
    assert delta(before, after, VERIFICATIONS, outcome="VALID", key_type="SECRET") == 1
    assert delta(before, after, VERIFICATIONS, outcome="MALFORMED", key_type="UNKNOWN") == 1


async def test_a_database_failure_is_a_503_outcome_and_a_database_error(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a database that refuses connections
    async def refused(**_: Any) -> None:
        raise ConnectionRefusedError("connection refused")

    monkeypatch.setattr(verify_module, "api_key_verify", refused)
    before = await scrape(api.client)
    # when
    response = await api.client.post("/v1/keys/verify", json={"key": unknown_token()})
    after = await scrape(api.client)
    # then
    assert response.status == 503
    assert delta(before, after, VERIFICATIONS, outcome="UNAVAILABLE", key_type="UNKNOWN") == 1
    assert delta(before, after, "keyward_database_errors_total", kind="connection") == 1


async def test_graphql_operations_by_type_and_result(api: Api) -> None:
    # given
    before = await scrape(api.client)
    account = await api.sign_up()  # a mutation, ok
    # when
    await api.query("{ me { email } }", token=account.session)  # ok
    await api.error("{ sessions { id } }")  # no credential: UNAUTHENTICATED
    status, _ = await api.raw("{ me { email } }", token=unknown_token())  # 401 at the edge
    assert status == 401
    await api.error(DEEP_QUERY, token=account.session)  # too deep: limited
    await api.error("{ nope }", token=account.session)  # invalid: error
    after = await scrape(api.client)
    # then
    counted = {
        (operation_type, result): delta(
            before, after, GRAPHQL, operation_type=operation_type, result=result
        )
        for operation_type in ("query", "mutation", "unknown")
        for result in ("ok", "error", "unauthenticated", "limited")
    }
    assert {key: count for key, count in counted.items() if count} == {
        ("mutation", "ok"): 1,
        ("query", "ok"): 1,
        ("query", "unauthenticated"): 1,
        ("unknown", "unauthenticated"): 1,
        ("query", "limited"): 1,
        ("query", "error"): 1,
    }


async def test_sign_in_failures_by_reason(api: Api) -> None:
    # given
    account = await api.sign_up()
    before = await scrape(api.client)
    # when
    data = await api.query(
        "mutation($input: SignInInput!) { signIn(input: $input) { __typename } }",
        {"input": {"email": account.email, "password": "not the password"}},
    )
    after = await scrape(api.client)
    # then
    assert data["signIn"]["__typename"] == "InvalidCredentials"
    assert delta(before, after, "keyward_sign_in_failures_total", reason="invalid_credentials") == 1


async def test_labels_hold_route_templates_and_nothing_personal(api: Api) -> None:
    # given traffic that carries ids, an email and tokens
    account = await api.sign_up()
    key, token = await api.create_key(account)
    missing = str(uuid.uuid4())
    await api.client.get(f"/keys/{missing}")
    await api.client.get(f"/graphql/{key['id']}")
    await api.verify(token)
    # when
    text = await scrape_text(api.client)
    samples = parse(text)
    # then unmatched paths share one route label, and no id, email or token shows anywhere
    routes = {dict(labels).get("route") for (_, labels) in samples} - {None}
    assert "unmatched" in routes
    assert routes <= {"unmatched", "/graphql", "/v1/keys/verify", "/metrics"}
    for secret in (missing, key["id"], account.email, account.organization_id, token):
        assert secret not in text
    assert re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-", text) is None


async def test_db_pool_is_reported(api: Api, settings: Settings) -> None:
    # when
    samples = await scrape(api.client)
    # then
    maximum = samples[("keyward_db_pool_connections", frozenset({("state", "max")}))]
    assert maximum == (1 if settings.is_sqlite else settings.db_pool_size)
    in_use = samples[("keyward_db_pool_connections", frozenset({("state", "in_use")}))]
    assert 0 <= in_use <= maximum


async def test_the_process_collector_is_there(api: Api) -> None:
    samples = await scrape(api.client)
    assert samples[("process_resident_memory_bytes", frozenset())] > 0


async def test_too_many_attempts_is_its_own_reason(
    settings: Settings, clock: Clock, aiohttp_client: Any
) -> None:
    # given an email limited to one failure
    api = Api(await aiohttp_client(metrics_app(settings, clock, sign_in_max_failures_per_email=1)))
    account = await api.sign_up()
    sign_in = "mutation($input: SignInInput!) { signIn(input: $input) { __typename } }"
    wrong = {"input": {"email": account.email, "password": "not the password"}}
    before = await scrape(api.client)
    # when
    first = await api.query(sign_in, wrong)
    second = await api.query(sign_in, wrong)
    after = await scrape(api.client)
    # then
    assert [first["signIn"]["__typename"], second["signIn"]["__typename"]] == [
        "InvalidCredentials",
        "TooManyAttempts",
    ]
    failures = "keyward_sign_in_failures_total"
    assert delta(before, after, failures, reason="invalid_credentials") == 1
    assert delta(before, after, failures, reason="too_many_attempts") == 1


async def test_metrics_on_a_port_of_its_own(
    settings: Settings, clock: Clock, aiohttp_client: Any
) -> None:
    # given an API process with METRICS_PORT and no METRICS_TOKEN
    port = unused_port()
    client = await aiohttp_client(create_app(replace(settings, metrics_port=port), clock=clock))
    await client.post("/v1/keys/verify", json={"key": "sk_nope"})
    # when
    on_api_port = await client.get("/metrics")
    async with aiohttp.ClientSession() as session:
        async with session.get(f"http://127.0.0.1:{port}/metrics") as response:
            status, text = response.status, await response.text()
    # then the API port has no /metrics, the metrics port serves it without a credential
    assert on_api_port.status == 404
    assert status == 200
    assert delta({}, parse(text), VERIFICATIONS, outcome="MALFORMED", key_type="UNKNOWN") >= 1


def test_metrics_settings_from_the_environment() -> None:
    # given / when
    settings = Settings.from_env(
        {"METRICS_TOKEN": "a-scrapers-token-123", "METRICS_PORT": "9100", "LOG_FORMAT": "json"}
    )
    # then the token is kept out of the repr, and bad values are refused
    assert settings.metrics_enabled and settings.metrics_port == 9100
    assert settings.log_format == "json"
    assert "a-scrapers-token-123" not in repr(settings)
    assert not Settings.from_env({}).metrics_enabled
    for bad in ({"METRICS_TOKEN": "short"}, {"METRICS_PORT": "70000"}, {"LOG_FORMAT": "xml"}):
        with pytest.raises(SettingsError):
            Settings.from_env(bad)


async def test_the_verification_cache_is_exported(api: Api) -> None:
    # given a key, a made-up token, and a scrape before
    account = await api.sign_up()
    _, token = await api.create_key(account)
    made_up = unknown_token()
    before = await scrape(api.client)
    # when the key is verified four times and the made-up token twice
    for _ in range(4):
        assert (await api.verify(token))["code"] == "VALID"
    for _ in range(2):
        assert (await api.verify(made_up))["code"] == "NOT_FOUND"
    after = await scrape(api.client)
    # then each read the database once, and every later answer came from memory
    lookups = {
        result: delta(before, after, "keyward_key_cache_lookups_total", result=result)
        for result in ("hit", "miss", "negative", "bypass")
    }
    assert lookups == {"hit": 3, "miss": 2, "negative": 1, "bypass": 0}
    # and the propagation histogram is there, in seconds, with no label at all
    assert ("keyward_revocation_propagation_seconds_count", frozenset()) in after
    labels = {labels for (name, labels) in after if name.startswith("keyward_key_cache")}
    assert labels == {frozenset({("result", result)}) for result in lookups}


def test_held_observations_fold_into_what_observe_would_record() -> None:
    # given two histograms with the same buckets and two counters, on a registry of their own
    registry = CollectorRegistry()
    buckets = (0.001, 0.01, 0.1)
    direct = Histogram("direct_seconds", "d", buckets=buckets, registry=registry)
    held = Histogram("held_seconds", "h", buckets=buckets, registry=registry)
    counted = Counter("direct_total", "d", registry=registry)
    held_counted = Counter("held_total", "h", registry=registry)
    values = [0.0, 0.0005, 0.001, 0.0011, 0.01, 0.05, 0.1, 0.2, 7.0]
    # when the same values are observed directly and held, then folded
    for value in values:
        direct.observe(value)
        held_observe(held, value)
        counted.inc()
        held_inc(held_counted)
    metrics_fold()

    # then every bucket, the count, the sum and the counter agree (bucket bounds inclusive)
    def samples(name: str) -> list[tuple[str, dict[str, str], float]]:
        family = next(m for m in registry.collect() if m.name == name)
        return [(s.name.split("_", 1)[1], s.labels, s.value) for s in family.samples]

    assert samples("held_seconds") == samples("direct_seconds")
    assert samples("held") == samples("direct")
    assert registry.get_sample_value("held_seconds_bucket", {"le": "0.001"}) == 3
