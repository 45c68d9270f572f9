"""An ASGI middleware (Starlette, FastAPI, any ASGI app): every HTTP request and WebSocket
needs a key keyward calls valid. Pure ASGI: it imports no framework.

    app.add_middleware(KeywardMiddleware, client=AsyncKeywardClient(URL))    # Starlette/FastAPI
    app = KeywardMiddleware(app, client=AsyncKeywardClient(URL))             # any ASGI app

The `Verification` is in `scope["keyward"]` and `scope["state"]["keyward"]` (Starlette's
`request.state.keyward`); it is None when keyward was unavailable and the app fails open.
A refused WebSocket is closed before it is accepted (1008, or 1013 while keyward is away).
Close the client in the application's lifespan shutdown.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from keyward_verify._middleware import caller_address, caller_origin, decide, token_from
from keyward_verify.async_client import AsyncKeywardClient

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

WEBSOCKET_POLICY_VIOLATION = 1008
WEBSOCKET_TRY_AGAIN_LATER = 1013


class KeywardMiddleware:
    """Answer 401 without a valid key and 503 while keyward is unavailable; with `fail_open`,
    let requests through unverified then."""

    def __init__(
        self, app: ASGIApp, *, client: AsyncKeywardClient, fail_open: bool = False
    ) -> None:
        self.app = app
        self.client = client
        self.fail_open = fail_open

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        peer = scope.get("client")
        outcome = await decide(
            self.client,
            token_from(headers.get("authorization"), headers.get("x-api-key")),
            client_ip=caller_address(peer[0] if peer else None),
            origin=caller_origin(headers.get("origin"), headers.get("referer")),
            fail_open=self.fail_open,
        )
        if outcome.passes:
            scope["keyward"] = outcome.verification
            # a request's own copy: a server that shared one state dict would leak keys
            scope["state"] = {**scope.get("state", {}), "keyward": outcome.verification}
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            unavailable = outcome.status == 503
            code = WEBSOCKET_TRY_AGAIN_LATER if unavailable else WEBSOCKET_POLICY_VIOLATION
            await send({"type": "websocket.close", "code": code})
        else:
            raw = [(name.lower().encode(), value.encode()) for name, value in outcome.headers]
            raw.append((b"content-length", str(len(outcome.body)).encode()))
            await send({"type": "http.response.start", "status": outcome.status, "headers": raw})
            await send({"type": "http.response.body", "body": outcome.body})


def _headers(scope: Scope) -> dict[str, str]:
    """The request's headers by lower-case name; the first of repeated ones."""
    headers: dict[str, str] = {}
    for name, value in scope.get("headers", ()):
        headers.setdefault(name.decode("latin-1").lower(), value.decode("latin-1"))
    return headers
