"""The middlewares every request passes, outermost first (`MIDDLEWARES`), and the response
signal that hardens every answer.

- `observe` (in `web/observe.py`): the request id and the HTTP metrics, around everything.
- `direct`: `POST /v1/keys/verify` (exactly) goes straight to its handler inside the database
  context, with `unavailable`'s 503, past the layers below that have nothing to do for it.
- `refuse_credentials_in_urls`: a token in a URL ends up in proxies' logs, browser history and
  Referer headers; it is refused with 400 before anything else runs.
- `rest_problems` (`web/rest.py`): under `/v1/`, an unknown path or method is a problem document.
- `unavailable`: when the database cannot answer outside GraphQL's resolvers (the bearer lookup,
  `/v1/keys/verify`), a 503 with `Retry-After` instead of a crash.
- `database_context`: each request runs inside the app's own tortoise context.
- `authentication`: the principal of a GraphQL request is fixed here, once, before any resolver
  runs; a present but bad credential ends the request with 401.
- `secure_response` (an `on_response_prepare` signal, so it also reaches 404s, 413s and other
  responses aiohttp makes from exceptions): `nosniff`, `Vary: Origin`, and `no-store` unless a
  handler chose its own caching (API responses carry tokens and session data).
"""

from __future__ import annotations

import logging
from urllib.parse import unquote_plus

from aiohttp import web

from models.access import AuthFailure, Principal, authenticate
from models.database import database_entered, database_unavailable
from models.key_verification import VerificationCode
from models.tokens import TOKEN_IN_TEXT
from schema.availability import UNAVAILABLE_MESSAGE, ServiceUnavailable
from telemetry.database import database_error_observed
from web.bodies import BadBody, single_header
from web.client import client_address
from web.observe import observe
from web.problems import problem
from web.rest import rest_problems
from web.state import CLOCK, DATABASE, NOW, PRINCIPAL, SETTINGS, Handler

log = logging.getLogger("keyward.database")

RETRY_AFTER_SECONDS = "1"
GRAPHQL_PATH = "/graphql"

_REASON_MESSAGES = {
    "MALFORMED": "The bearer token is not a keyward token.",
    "NOT_FOUND": "The bearer token is unknown, deleted or ended.",
    "EXPIRED": "The bearer token has expired.",
    "FORBIDDEN_IP": "The bearer key may not be used from this address (its allowedCidrs).",
}


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


@web.middleware
async def unavailable(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except Exception as error:
        return _unavailable(request, error)


def unavailable_observed(method: str, path: str, error: Exception) -> bool:
    """Whether `error` says the database cannot answer now; if so it is counted and logged."""
    if not database_unavailable(error):
        return False
    database_error_observed(error)
    log.warning("database unavailable: %s %s: %r", method, path, error)
    return True


def _unavailable(request: web.Request, error: Exception) -> web.Response:
    """The 503 for a database that cannot answer; any other error is raised again."""
    if not unavailable_observed(request.method, request.path, error):
        raise error
    headers = {"Retry-After": RETRY_AFTER_SECONDS}
    if request.path == GRAPHQL_PATH:
        body = {"errors": [ServiceUnavailable().formatted]}
        return web.json_response(body, status=503, headers=headers)
    return problem(503, "Service Unavailable", UNAVAILABLE_MESSAGE, headers=headers)


# Requests that need nothing of the middlewares after `direct` but the database and its 503:
# the exact path (no query string, so nothing for `refuse_credentials_in_urls` to find), a
# method the route serves (nothing for `rest_problems`), outside GraphQL (nothing for
# `authentication`). The verification every resource server sends on every request it serves
# skips those layers; everything else takes them all.
DIRECT = frozenset({("POST", "/v1/keys/verify")})


@web.middleware
async def direct(request: web.Request, handler: Handler) -> web.StreamResponse:
    if (request.method, request.raw_path) not in DIRECT:
        return await handler(request)
    with database_entered(request.app[DATABASE]):
        try:
            return await request.match_info.handler(request)
        except Exception as error:
            return _unavailable(request, error)


@web.middleware
async def database_context(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Run each request inside the app's own tortoise context (tortoise keeps it in a
    contextvar; entering it here does not depend on how aiohttp spawns request tasks)."""
    with database_entered(request.app[DATABASE]):
        return await handler(request)


def _unauthorized(reason: str, challenge: str = 'Bearer error="invalid_token"') -> web.Response:
    body = {
        "errors": [
            {
                "message": _REASON_MESSAGES[reason],
                "extensions": {"code": "UNAUTHENTICATED", "reason": reason},
            }
        ]
    }
    return web.json_response(body, status=401, headers={"WWW-Authenticate": challenge})


@web.middleware
async def authentication(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Resolve `Authorization: Bearer …` once per GraphQL request."""
    now = request.app[CLOCK]()
    request[NOW] = now
    request[PRINCIPAL] = None
    if request.path != GRAPHQL_PATH:
        return await handler(request)
    try:
        header = single_header(request.headers, "Authorization")
    except BadBody as error:
        body = {"errors": [{"message": error.message, "extensions": {"code": "BAD_REQUEST"}}]}
        return web.json_response(body, status=400)
    if header is None:
        return await handler(request)
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer":
        # No bearer credential at all: RFC 6750 §3.1 names the scheme and no error code.
        return _unauthorized("MALFORMED", challenge="Bearer")
    if not token:
        return _unauthorized("MALFORMED")
    address = client_address(request, request.app[SETTINGS].trusted_proxy_hops)
    principal: Principal | AuthFailure = await authenticate(token, now=now, client_address=address)
    if isinstance(principal, AuthFailure):
        code = principal.reason
        return _unauthorized("FORBIDDEN_IP" if code is VerificationCode.FORBIDDEN else code.value)
    request[PRINCIPAL] = principal
    return await handler(request)


MIDDLEWARES = (
    observe,
    direct,
    refuse_credentials_in_urls,
    rest_problems,
    unavailable,
    database_context,
    authentication,
)


async def secure_response(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Cache-Control", "no-store")
    vary = response.headers.get("Vary", "")
    if "origin" not in vary.lower():
        response.headers["Vary"] = f"{vary}, Origin" if vary else "Origin"
