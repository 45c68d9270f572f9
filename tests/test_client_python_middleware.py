"""keyward-verify's middlewares end to end: an aiohttp application and a raw ASGI application,
each guarded by its middleware, in front of a real keyward server (and of a keyward that is
away): the key from `Authorization: Bearer` or `X-Api-Key`, the `Verification` on the request,
401 with `WWW-Authenticate: Bearer`, 503 by default when keyward cannot tell."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from keyward_verify import AsyncKeywardClient, KeyType
from keyward_verify.aiohttp_middleware import KEYWARD, keyward_middleware
from keyward_verify.asgi import KeywardMiddleware, Message, Scope

from tests.client_python_support import (
    UNAVAILABLE_PROBLEM,
    base_url,
    closed_port,
    keyward_away,
    recording_keyward,
)
from tests.harness import Api
from tests.support import delete, unknown_token


@pytest.fixture
async def keyward(client: TestClient[Any, Any]) -> AsyncIterator[AsyncKeywardClient]:
    async with AsyncKeywardClient(base_url(client)) as keyward_client:
        yield keyward_client


@pytest.fixture
async def keyward_unreachable() -> AsyncIterator[AsyncKeywardClient]:
    async with AsyncKeywardClient(f"http://127.0.0.1:{closed_port()}") as keyward_client:
        yield keyward_client


# -- an aiohttp application --


def aiohttp_app(keyward: AsyncKeywardClient, *, fail_open: bool = False) -> web.Application:
    async def hello(request: web.Request) -> web.Response:
        verification = request.get(KEYWARD)
        if verification is None:
            return web.json_response({"keyId": None})
        return web.json_response({"keyId": verification.key_id, "type": verification.type})

    app = web.Application(middlewares=[keyward_middleware(keyward, fail_open=fail_open)])
    app.router.add_get("/hello", hello)
    return app


async def test_aiohttp_lets_a_valid_key_through_from_either_header(
    api: Api, keyward: AsyncKeywardClient, aiohttp_client: Any
) -> None:
    # given
    account = await api.sign_up()
    key, secret = await api.create_key(account)
    protected = await aiohttp_client(aiohttp_app(keyward))
    # when
    bearer = await protected.get("/hello", headers={"Authorization": f"Bearer {secret}"})
    api_key = await protected.get("/hello", headers={"X-Api-Key": account.default_key["token"]})
    # then the handler has the verification
    assert (bearer.status, await bearer.json()) == (200, {"keyId": key["id"], "type": "SECRET"})
    assert (api_key.status, await api_key.json()) == (
        200,
        {"keyId": account.default_key["id"], "type": KeyType.PUBLIC},
    )


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer "}],
    ids=["no header", "another scheme", "empty bearer"],
)
async def test_aiohttp_without_a_key_is_401_bearer(
    keyward: AsyncKeywardClient, aiohttp_client: Any, headers: dict[str, str]
) -> None:
    # given
    protected = await aiohttp_client(aiohttp_app(keyward))
    # when
    response = await protected.get("/hello", headers=headers)
    # then: a challenge without an error code (RFC 6750 §3.1)
    assert response.status == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.content_type == "application/problem+json"
    assert (await response.json())["status"] == 401


async def test_aiohttp_with_a_bad_key_is_401_invalid_token(
    api: Api, keyward: AsyncKeywardClient, aiohttp_client: Any
) -> None:
    # given a deleted key and one too long to be a key
    account = await api.sign_up()
    key, deleted = await api.create_key(account)
    await delete(api, account.session, key["id"])
    protected = await aiohttp_client(aiohttp_app(keyward))
    for token, code in [(deleted, "NOT_FOUND"), ("sk_" + "x" * 600, "MALFORMED")]:
        # when
        response = await protected.get("/hello", headers={"Authorization": f"Bearer {token}"})
        # then
        assert response.status == 401, code
        assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
        body = await response.text()
        assert json.loads(body)["code"] == code and token not in body


async def test_aiohttp_fails_closed_while_keyward_is_unavailable(
    keyward_unreachable: AsyncKeywardClient, aiohttp_client: Any, aiohttp_server: Any
) -> None:
    # given keyward unreachable, and keyward answering 503
    away = await aiohttp_server(keyward_away())
    async with AsyncKeywardClient(str(away.make_url("")).rstrip("/")) as keyward_503:
        for keyward, retry_after in [(keyward_unreachable, None), (keyward_503, "1")]:
            protected = await aiohttp_client(aiohttp_app(keyward))
            # when
            response = await protected.get("/hello", headers={"X-Api-Key": unknown_token()})
            # then
            assert response.status == 503
            assert response.content_type == "application/problem+json"
            assert response.headers.get("Retry-After") == retry_after


async def test_aiohttp_can_fail_open(
    keyward_unreachable: AsyncKeywardClient, aiohttp_client: Any
) -> None:
    # given an application that chose to serve while keyward is away
    protected = await aiohttp_client(aiohttp_app(keyward_unreachable, fail_open=True))
    # when
    response = await protected.get("/hello", headers={"X-Api-Key": unknown_token()})
    # then the handler runs, without a verification
    assert (response.status, await response.json()) == (200, {"keyId": None})


# -- a raw ASGI application, called as an ASGI server would --


async def asgi_app(scope: Scope, receive: Any, send: Any) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.accept"})
        return
    verification = scope["state"]["keyward"]
    body = {
        "keyId": verification.key_id if verification else None,
        "sameInScope": scope["keyward"] is verification,
        "lifespanState": scope["state"]["from_lifespan"],
    }
    encoded = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(encoded))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": encoded})


async def asgi_call(
    middleware: KeywardMiddleware, headers: dict[str, str], type: str = "http"
) -> list[Message]:
    scope: Scope = {
        "type": type,
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "scheme": "ws" if type == "websocket" else "http",
        "method": "GET",
        "path": "/hello",
        "raw_path": b"/hello",
        "query_string": b"",
        "root_path": "",
        "headers": [(name.lower().encode(), value.encode()) for name, value in headers.items()],
        "client": ("203.0.113.7", 51000),
        "server": ("api.example", 443),
        "state": {"from_lifespan": True},
    }
    first = {"type": "websocket.connect"} if type == "websocket" else {"type": "http.request"}
    sent: list[Message] = []

    async def receive() -> Message:
        return first

    async def send(message: Message) -> None:
        sent.append(message)

    await middleware(scope, receive, send)
    return sent


def asgi_response(sent: list[Message]) -> tuple[int, dict[str, str], dict[str, Any]]:
    start, body = sent
    assert (start["type"], body["type"]) == ("http.response.start", "http.response.body")
    headers = {name.decode(): value.decode() for name, value in start["headers"]}
    assert int(headers["content-length"]) == len(body["body"])
    return start["status"], headers, json.loads(body["body"])


async def test_asgi_puts_a_valid_key_on_the_scope(api: Api, keyward: AsyncKeywardClient) -> None:
    # given
    account = await api.sign_up()
    key, secret = await api.create_key(account)
    middleware = KeywardMiddleware(asgi_app, client=keyward)
    # when
    bearer = await asgi_call(middleware, {"Authorization": f"Bearer {secret}"})
    api_key = await asgi_call(middleware, {"X-API-Key": account.default_key["token"]})
    # then Starlette's request.state.keyward and scope["keyward"] hold it
    assert asgi_response(bearer)[::2] == (
        200,
        {"keyId": key["id"], "sameInScope": True, "lifespanState": True},
    )
    assert asgi_response(api_key)[2]["keyId"] == account.default_key["id"]


async def test_asgi_answers_401_without_a_valid_key(api: Api, keyward: AsyncKeywardClient) -> None:
    # given
    account = await api.sign_up()
    key, deleted = await api.create_key(account)
    await delete(api, account.session, key["id"])
    middleware = KeywardMiddleware(asgi_app, client=keyward)
    # when
    missing = asgi_response(await asgi_call(middleware, {}))
    invalid = asgi_response(await asgi_call(middleware, {"Authorization": f"Bearer {deleted}"}))
    # then
    assert missing[0] == 401 and missing[1]["www-authenticate"] == "Bearer"
    assert missing[1]["content-type"] == "application/problem+json"
    assert invalid[0] == 401
    assert invalid[1]["www-authenticate"] == 'Bearer error="invalid_token"'
    assert invalid[2]["code"] == "NOT_FOUND" and deleted not in json.dumps(invalid[2])


async def test_asgi_fails_closed_or_open_while_keyward_is_unavailable(
    keyward_unreachable: AsyncKeywardClient,
) -> None:
    # given
    closed = KeywardMiddleware(asgi_app, client=keyward_unreachable)
    open_ = KeywardMiddleware(asgi_app, client=keyward_unreachable, fail_open=True)
    headers = {"X-Api-Key": unknown_token()}
    # when
    status, response_headers, problem = asgi_response(await asgi_call(closed, headers))
    passed = asgi_response(await asgi_call(open_, headers))
    # then
    assert (status, problem["title"]) == (503, UNAVAILABLE_PROBLEM["title"])
    assert response_headers["content-type"] == "application/problem+json"
    assert passed[0] == 200 and passed[2] == {
        "keyId": None,
        "sameInScope": True,
        "lifespanState": True,
    }


async def test_asgi_guards_websockets_and_passes_lifespan_through(
    api: Api, keyward: AsyncKeywardClient, keyward_unreachable: AsyncKeywardClient
) -> None:
    # given
    account = await api.sign_up()
    middleware = KeywardMiddleware(asgi_app, client=keyward)
    token = account.default_key["token"]
    # when / then a refused WebSocket is closed before it is accepted
    assert await asgi_call(middleware, {}, "websocket") == [
        {"type": "websocket.close", "code": 1008}
    ]
    away = KeywardMiddleware(asgi_app, client=keyward_unreachable)
    assert await asgi_call(away, {"X-Api-Key": token}, "websocket") == [
        {"type": "websocket.close", "code": 1013}
    ]
    assert await asgi_call(middleware, {"X-Api-Key": token}, "websocket") == [
        {"type": "websocket.accept"}
    ]
    # and the lifespan protocol never meets a key check
    seen: list[str] = []

    async def lifespan_app(scope: Scope, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    await KeywardMiddleware(lifespan_app, client=keyward_unreachable)(
        {"type": "lifespan"}, _never, _never
    )
    assert seen == ["lifespan"]


async def _never(*args: Any) -> Any:
    raise AssertionError("not called")


async def test_the_middlewares_send_the_client_address_and_origin(
    aiohttp_server: Any, aiohttp_client: Any
) -> None:
    # given a keyward that records what it is sent
    bodies: list[dict[str, Any]] = []
    recorder = await aiohttp_server(recording_keyward(bodies))
    token = unknown_token()
    async with AsyncKeywardClient(str(recorder.make_url("")).rstrip("/")) as keyward:
        protected = await aiohttp_client(aiohttp_app(keyward))
        # when
        await protected.get("/hello", headers={"X-Api-Key": token, "Origin": "https://a.example"})
        await asgi_call(KeywardMiddleware(asgi_app, client=keyward), {"X-Api-Key": token})
    # then
    assert bodies == [
        {"key": token, "clientIp": "127.0.0.1", "origin": "https://a.example"},
        {"key": token, "clientIp": "203.0.113.7"},
    ]


async def test_a_restricted_key_from_elsewhere_is_403_with_its_reason(
    api: Api, keyward: AsyncKeywardClient, aiohttp_client: Any
) -> None:
    # given a public key for one web app, behind the aiohttp middleware
    account = await api.sign_up()
    _, token = await api.create_key(account, type="PUBLIC", allowedOrigins=["https://app.example"])
    protected = await aiohttp_client(aiohttp_app(keyward))
    # when it is sent from the app's pages (Origin, or only a Referer) and from another site
    from_app = await protected.get(
        "/hello", headers={"X-Api-Key": token, "Origin": "https://app.example"}
    )
    by_referer = await protected.get(
        "/hello", headers={"X-Api-Key": token, "Referer": "https://app.example/pricing?plan=2"}
    )
    elsewhere = await protected.get(
        "/hello", headers={"X-Api-Key": token, "Origin": "https://copycat.example"}
    )
    # then
    assert (from_app.status, by_referer.status) == (200, 200)
    assert elsewhere.status == 403
    problem = await elsewhere.json(content_type="application/problem+json")
    assert problem["code"] == "FORBIDDEN"
    assert "ORIGIN_NOT_ALLOWED" in problem["detail"]
    assert token not in json.dumps(problem)


async def test_the_middlewares_leave_out_what_keyward_would_refuse(
    aiohttp_server: Any,
) -> None:
    # given a keyward that records what it is sent
    bodies: list[dict[str, Any]] = []
    recorder = await aiohttp_server(recording_keyward(bodies))
    token = unknown_token()
    async with AsyncKeywardClient(str(recorder.make_url("")).rstrip("/")) as keyward:
        middleware = KeywardMiddleware(asgi_app, client=keyward)
        # when the peer is no IP address and the origin is a browser extension's
        scope_peer = {"X-Api-Key": token, "Origin": "chrome-extension://abcdef"}
        messages = await asgi_call(middleware, scope_peer)
    # then neither is sent (the key alone is judged), and the request is answered, not broken
    assert bodies == [{"key": token, "clientIp": "203.0.113.7"}]
    assert messages[0]["status"] == 401
