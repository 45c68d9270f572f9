"""The HTTP edge: CORS for the exact configured origins, security headers on every response,
no credentials in URLs, and logs free of secrets."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from server import create_app
from settings import Settings, SettingsError
from tests.harness import FAST_PASSWORDS, Api, Clock, KeywardTestServer
from tests.support import ME
from web.access_log import AccessLogger
from web.redaction import REDACTED, install_log_redaction, redact

APP_ORIGIN = "https://app.example.com"
EVIL_ORIGIN = "https://evil.example.net"
VERIFY = "query Verify($token: String!) { verifyApiKey(token: $token) { valid code } }"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        cors_origins=(APP_ORIGIN, "http://localhost:5173"),
        **FAST_PASSWORDS,  # type: ignore[arg-type]
    )


# -- CORS --


async def test_a_preflight_from_a_listed_origin_is_allowed(client: TestClient[Any, Any]) -> None:
    # when
    response = await client.options(
        "/graphql",
        headers={
            "Origin": APP_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    # then
    assert response.status == 200
    assert response.headers["Access-Control-Allow-Origin"] == APP_ORIGIN
    assert "Access-Control-Allow-Credentials" not in response.headers
    allowed = response.headers["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed and "content-type" in allowed
    assert "Origin" in response.headers["Vary"]


async def test_a_preflight_from_another_origin_is_refused(client: TestClient[Any, Any]) -> None:
    response = await client.options(
        "/graphql",
        headers={"Origin": EVIL_ORIGIN, "Access-Control-Request-Method": "POST"},
    )
    assert response.status == 403
    assert "Access-Control-Allow-Origin" not in response.headers


@pytest.mark.parametrize("path", ["/graphql", "/v1/keys/verify"])
async def test_only_the_exact_origin_is_echoed(client: TestClient[Any, Any], path: str) -> None:
    # given
    body = {"query": "{ me { id } }"} if path == "/graphql" else {"key": "x"}
    # when
    allowed = await client.post(path, json=body, headers={"Origin": APP_ORIGIN})
    other = await client.post(path, json=body, headers={"Origin": EVIL_ORIGIN})
    lookalike = await client.post(path, json=body, headers={"Origin": APP_ORIGIN + ".evil.net"})
    # then
    assert allowed.headers["Access-Control-Allow-Origin"] == APP_ORIGIN
    assert "Access-Control-Allow-Credentials" not in allowed.headers
    for response in (other, lookalike):
        assert "Access-Control-Allow-Origin" not in response.headers
    for response in (allowed, other, lookalike):
        assert "Origin" in response.headers["Vary"]


@pytest.mark.parametrize("origins", ["*", "https://a.example.com/", "null", "app.example.com"])
def test_cors_origins_must_be_exact_origins(origins: str) -> None:
    with pytest.raises(SettingsError, match="CORS_ORIGINS"):
        Settings.from_env({"CORS_ORIGINS": origins})


async def test_without_cors_origins_no_origin_is_allowed(
    database_url: str, aiohttp_client: Any
) -> None:
    app: web.Application = create_app(Settings(database_url=database_url))
    client = await aiohttp_client(app)
    response = await client.post(
        "/graphql", json={"query": "{ me { id } }"}, headers={"Origin": APP_ORIGIN}
    )
    assert "Access-Control-Allow-Origin" not in response.headers
    assert response.headers["Vary"] == "Origin"


# -- headers --


async def test_every_response_has_nosniff_and_no_store(
    api: Api, client: TestClient[Any, Any]
) -> None:
    # given
    account = await api.sign_up()
    requests = [
        client.post(
            "/graphql",
            json={"query": "{ me { id } }"},
            headers={"Authorization": f"Bearer {account.session}"},
        ),
        client.get("/graphql", params={"query": "{ me { id } }"}),
        client.post(
            "/graphql", json={"query": "{ me { id } }"}, headers={"Authorization": "Bearer nope"}
        ),
        client.post("/v1/keys/verify", json={"key": account.default_key["token"]}),
        client.post("/v1/keys/verify", data=b"not json"),
        client.post(
            "/graphql", data=b"x" * (70 * 1024), headers={"Content-Type": "application/json"}
        ),
        client.get("/no/such/page"),
        client.put("/graphql"),
        client.get("/healthz"),
    ]
    # when / then
    for request in requests:
        response = await request
        assert response.headers["X-Content-Type-Options"] == "nosniff", response
        assert response.headers["Cache-Control"] == "no-store", response


async def test_html_pages_carry_a_content_security_policy(client: TestClient[Any, Any]) -> None:
    for path in ("/graphql", "/"):
        response = await client.get(path, headers={"Accept": "text/html"})
        if response.status == 404:
            continue  # the dashboard is not there yet
        assert response.content_type == "text/html"
        policy = response.headers["Content-Security-Policy"]
        assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
        assert response.headers["X-Content-Type-Options"] == "nosniff"


# -- credentials in URLs --


async def test_a_token_in_the_query_string_is_refused(
    api: Api, client: TestClient[Any, Any]
) -> None:
    # given
    account = await api.sign_up()
    _, token = await api.create_key(account)
    urls = [
        ("/graphql", {"query": f'{{ verifyApiKey(token: "{token}") {{ valid }} }}'}),
        ("/graphql", {"query": "{ me { id } }", "access_token": account.session}),
        ("/healthz", {"key": token}),
    ]
    # when / then
    for path, params in urls:
        response = await client.get(path, params=params)
        assert response.status == 400
        body = await response.json()
        assert "Credentials do not belong in a URL" in body["detail"]
    response = await client.post(f"/v1/keys/{token}")
    assert response.status == 400


# -- logs --


@pytest.fixture
def redacted_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    factory = logging.getLogRecordFactory()
    install_log_redaction()
    caplog.set_level(logging.DEBUG)
    try:
        yield caplog
    finally:
        logging.setLogRecordFactory(factory)


def test_redact_hides_tokens_and_credentials() -> None:
    assert redact("Authorization: Bearer abc.def") == f"Authorization: Bearer {REDACTED}"
    assert redact("bearer abc") == f"bearer {REDACTED}"
    assert redact("{'Cookie': 'sid=1'}") == f"{{'Cookie': '{REDACTED}'}}"
    assert redact("key acme_sk_" + "A1" * 20 + " end") == f"key {REDACTED} end"
    assert redact("ses_" + "z" * 49) == REDACTED
    assert redact("tasks_x and pk_sk") == "tasks_x and pk_sk"


async def test_no_log_line_holds_a_secret(
    settings: Settings,
    clock: Clock,
    aiohttp_client: Any,
    redacted_logs: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given an app with keyward's access log, and a flow that handles every kind of secret
    app: web.Application = create_app(settings, clock=clock)
    server = KeywardTestServer(app)
    await server.start_server(access_log_class=AccessLogger)
    client = await aiohttp_client(server)
    api = Api(client)
    account = await api.sign_up()
    _, secret = await api.create_key(account)
    secrets = [account.session, secret, account.default_key["token"]]
    await api.query(VERIFY, {"token": secret}, token=secret)
    await client.post("/v1/keys/verify", json={"key": secret})
    await client.get("/graphql", params={"query": "{ me { id } }", "t": secret})
    await client.post(
        "/graphql",
        json={"query": "{ me { id } }"},
        headers={"Authorization": f"Bearer {secret}x", "Cookie": "session=hunter2"},
    )
    await api.raw(f'{{ verifyApiKey(token: "{secret}") {{ nope }} }}', token=secret)
    # and a crash whose message holds a token
    import schema.query as query_module

    async def crash(**_: Any) -> None:
        raise RuntimeError(f"could not load user for {secret}")

    monkeypatch.setattr(query_module, "user_get", crash)
    await api.raw(ME, token=account.session)
    # when
    lines = [logging.Formatter("%(message)s").format(record) for record in redacted_logs.records]
    text = "\n".join(lines)
    # then
    assert any("method=POST route=/graphql " in line for line in lines), text
    assert "could not load user" in text
    for value in [*secrets, "hunter2", "Bearer"]:
        assert [line for line in lines if value in line] == []
