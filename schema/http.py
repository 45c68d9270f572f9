"""The HTTP edge of the API: bearer authentication before any resolver runs, the GraphQL view,
and `POST /v1/keys/verify` for resource servers."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from models.access import AuthFailure, Principal, authenticate
from models.api_keys import Verification, api_key_verify
from models.clock import Clock
from models.passwords import Passwords
from models.tokens import MAX_TOKEN_LENGTH
from schema.client import client_address
from schema.context import Context
from schema.guard import GuardedGraphQLView
from schema.pages import graphiql_response
from settings import Settings

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

SETTINGS = web.AppKey("settings", Settings)
PASSWORDS = web.AppKey("passwords", Passwords)
CLOCK: web.AppKey[Clock] = web.AppKey("clock")
PRINCIPAL = "keyward.principal"
NOW = "keyward.now"

_REASON_MESSAGES = {
    "MALFORMED": "The bearer token is not a keyward token.",
    "NOT_FOUND": "The bearer token is unknown, deleted or ended.",
    "EXPIRED": "The bearer token has expired.",
}


def _unauthorized(reason: str) -> web.Response:
    body = {
        "errors": [
            {
                "message": _REASON_MESSAGES[reason],
                "extensions": {"code": "UNAUTHENTICATED", "reason": reason},
            }
        ]
    }
    return web.json_response(
        body,
        status=401,
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


@web.middleware
async def authentication(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Resolve `Authorization: Bearer …` once per GraphQL request; a present but bad
    credential ends the request with 401 before any resolver runs."""
    now = request.app[CLOCK]()
    request[NOW] = now
    request[PRINCIPAL] = None
    header = request.headers.get("Authorization")
    if header is None or request.path != "/graphql":
        return await handler(request)
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return _unauthorized("MALFORMED")
    principal: Principal | AuthFailure = await authenticate(token, now=now)
    if isinstance(principal, AuthFailure):
        return _unauthorized(principal.reason.value)
    request[PRINCIPAL] = principal
    return await handler(request)


class GraphQLView(GuardedGraphQLView[Context, None]):
    async def get_context(
        self, request: web.Request, response: web.Response | web.WebSocketResponse
    ) -> Context:
        return Context(
            settings=request.app[SETTINGS],
            passwords=request.app[PASSWORDS],
            now=request.get(NOW) or request.app[CLOCK](),
            principal=request.get(PRINCIPAL),
            client_address=client_address(request, request.app[SETTINGS].trusted_proxy_hops),
        )

    async def render_graphql_ide(self, request: web.Request) -> web.Response:
        """GraphiQL with its assets served by keyward, under a CSP (see schema/pages.py)."""
        return graphiql_response(self.graphql_ide_html)


def problem(status: int, title: str, detail: str) -> web.Response:
    """An RFC 9457 problem document, the error shape of the original product's API."""
    return web.json_response(
        {"type": "about:blank", "title": title, "status": status, "detail": detail},
        status=status,
        content_type="application/problem+json",
    )


def _verification_body(result: Verification) -> dict[str, Any]:
    if not result.valid:
        return {"valid": False, "code": result.code.value}
    return {
        "valid": True,
        "code": result.code.value,
        "keyId": str(result.key_id),
        "organizationId": str(result.organization_id),
        "type": result.type.value if result.type else None,
        "name": result.name,
        "expiresAt": None if result.expires_at is None else result.expires_at.isoformat(),
    }


async def verify_key(request: web.Request) -> web.Response:
    """`POST /v1/keys/verify {"key": …}`: whether a key is good, for resource servers."""
    try:
        body = json.loads(await request.read())
    except web.HTTPRequestEntityTooLarge:
        return problem(
            413, "Content Too Large", f"The body is larger than {request.client_max_size:,} bytes."
        )
    except (ValueError, UnicodeDecodeError):
        return problem(400, "Bad Request", "The body must be a JSON object.")
    key = body.get("key") if isinstance(body, dict) else None
    if not isinstance(key, str):
        return problem(400, "Bad Request", 'The body needs a string "key".')
    if len(key) > MAX_TOKEN_LENGTH:
        return problem(400, "Bad Request", f'"key" is longer than {MAX_TOKEN_LENGTH} characters.')
    result = await api_key_verify(token=key, now=request.app[CLOCK]())
    return web.json_response(_verification_body(result), headers={"Cache-Control": "no-store"})
