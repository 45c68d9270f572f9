"""Helpers for the tests of `clients/python` (the `keyward-verify` package): where the real
keyward under test listens, stand-ins for a keyward that is away, and the check that a token
never reaches an error."""

from __future__ import annotations

import asyncio
import socket
import traceback
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

# A keyward whose database is away answers this (schema/availability.py): the same shape here,
# because a real outage needs a PostgreSQL server of the test's own (test_database_outage.py).
UNAVAILABLE_PROBLEM = {
    "type": "about:blank",
    "title": "Service Unavailable",
    "status": 503,
    "detail": "The database is unavailable right now; try again shortly.",
}
# Small enough to keep the tests quick, large enough for a loaded machine to connect locally.
SHORT_TIMEOUT_SECONDS = 0.5


def base_url(client: TestClient[Any, Any]) -> str:
    """The real keyward server under test, on its own port of 127.0.0.1."""
    return str(client.make_url("")).rstrip("/")


def closed_port() -> int:
    """A local port nothing listens on: connecting is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def keyward_away() -> web.Application:
    """Answers every verification as keyward does while its database is away."""

    async def verify(request: web.Request) -> web.Response:
        return web.json_response(
            UNAVAILABLE_PROBLEM,
            status=503,
            content_type="application/problem+json",
            headers={"Retry-After": "1"},
        )

    app = web.Application()
    app.router.add_post("/v1/keys/verify", verify)
    return app


def keyward_echoing() -> web.Application:
    """Refuses every verification with a problem that repeats the key, in its detail and in
    an extension member (keyward never does; a proxy or a future version might)."""

    async def verify(request: web.Request) -> web.Response:
        key = (await request.json())["key"]
        problem = {"title": "Bad Request", "status": 400, "detail": f"{key} is not a key."}
        return web.json_response(
            {**problem, "key": key, "hint": 3},
            status=400,
            content_type="application/problem+json",
        )

    app = web.Application()
    app.router.add_post("/v1/keys/verify", verify)
    return app


def keyward_hanging() -> web.Application:
    """Accepts verifications and never answers them."""

    async def verify(request: web.Request) -> web.Response:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    app = web.Application()
    app.router.add_post("/v1/keys/verify", verify)
    return app


def recording_keyward(bodies: list[dict[str, Any]]) -> web.Application:
    """Records each verification request's body and answers NOT_FOUND."""

    async def verify(request: web.Request) -> web.Response:
        bodies.append(await request.json())
        return web.json_response({"valid": False, "code": "NOT_FOUND"})

    app = web.Application()
    app.router.add_post("/v1/keys/verify", verify)
    return app


def assert_no_token(error: BaseException, token: str) -> None:
    """Neither the error's text, its repr nor its traceback (causes included) shows `token`."""
    assert token not in str(error)
    assert token not in repr(error)
    assert token not in "".join(traceback.format_exception(error))
