"""HTTP hardening around every route: response headers, CORS, no credentials in URLs, and an
access log that never records a query string or a header.

- `secure_response` (an `on_response_prepare` signal, so it also reaches 404s, 413s and other
  responses aiohttp makes from exceptions): `nosniff`, `Vary: Origin`, and `no-store` unless a
  handler chose its own caching (API responses carry tokens and session data).
- `refuse_credentials_in_urls`: a token in a URL ends up in proxies' logs, browser history and
  Referer headers; it is refused with 400 before anything else runs.
- `cors_setup`: aiohttp-cors with the exact `CORS_ORIGINS` only; credentials are bearer headers,
  so cookies are never allowed cross-origin.
"""

from __future__ import annotations

from urllib.parse import unquote_plus

import aiohttp_cors
from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from schema.http import Handler, problem
from schema.redaction import TOKEN_IN_TEXT, redact

CORS_PATHS = frozenset({"/graphql", "/v1/keys/verify"})
CORS_MAX_AGE_SECONDS = 600


async def secure_response(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Cache-Control", "no-store")
    vary = response.headers.get("Vary", "")
    if "origin" not in vary.lower():
        response.headers["Vary"] = f"{vary}, Origin" if vary else "Origin"


@web.middleware
async def refuse_credentials_in_urls(request: web.Request, handler: Handler) -> web.StreamResponse:
    if TOKEN_IN_TEXT.search(unquote_plus(request.raw_path)):
        return problem(
            400,
            "Bad Request",
            "Credentials do not belong in a URL: send a token in the Authorization header "
            "or in a JSON body.",
        )
    return await handler(request)


class AccessLogger(AbstractAccessLogger):
    """One line per request: address, method, path (never the query string), status, size,
    seconds. No header is ever logged."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info(
            '%s "%s %s" %s %s %.3f',
            request.remote,
            request.method,
            redact(request.path),
            response.status,
            response.body_length,
            time,
        )


def cors_setup(app: web.Application, origins: tuple[str, ...]) -> None:
    """Allow the exact `origins` (never `*`) to call the API routes from a browser."""
    if not origins:
        return
    options = aiohttp_cors.ResourceOptions(  # type: ignore[no-untyped-call]
        allow_credentials=False,
        allow_headers=("Authorization", "Content-Type"),
        allow_methods=("GET", "POST"),
        expose_headers=("WWW-Authenticate",),
        max_age=CORS_MAX_AGE_SECONDS,
    )
    cors = aiohttp_cors.setup(app, defaults={origin: options for origin in origins})
    for route in list(app.router.routes()):
        info = route.resource.get_info() if route.resource else {}
        if info.get("path") in CORS_PATHS and route.method in ("GET", "POST"):
            cors.add(route)
