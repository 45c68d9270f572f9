"""An aiohttp middleware: every request needs a key keyward calls valid.

    app = web.Application(middlewares=[keyward_middleware(AsyncKeywardClient(URL))])
    ...
    verification = request[KEYWARD]   # in a handler

The client's pool is opened on the first request; close it in `on_cleanup`.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from keyward_verify._middleware import caller_address, caller_origin, decide, token_from
from keyward_verify.async_client import AsyncKeywardClient
from keyward_verify.result import Verification

try:
    KEYWARD = web.RequestKey("keyward", Verification)
except AttributeError:  # aiohttp before 3.14 has no typed request keys
    KEYWARD = "keyward"  # type: ignore[assignment]


def keyward_middleware(client: AsyncKeywardClient, *, fail_open: bool = False) -> Middleware:
    """Answer 401 without a valid key and 503 while keyward is unavailable; with `fail_open`,
    let requests through unverified then (`request.get(KEYWARD)` is None)."""

    @web.middleware
    async def keyward(request: web.Request, handler: Handler) -> web.StreamResponse:
        headers = request.headers
        outcome = await decide(
            client,
            token_from(headers.get("Authorization"), headers.get("X-Api-Key")),
            client_ip=caller_address(request.remote),
            origin=caller_origin(headers.get("Origin"), headers.get("Referer")),
            fail_open=fail_open,
        )
        if not outcome.passes:
            return web.Response(status=outcome.status, body=outcome.body, headers=outcome.headers)
        if outcome.verification is not None:
            request[KEYWARD] = outcome.verification
        return await handler(request)

    return keyward
