"""`POST /v1/keys/verify {"key": …}`: whether a key is good, for resource servers.

Errors are RFC 9457 problem documents; a good or bad key is a 200 with `valid` and `code`.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from models.key_verification import Verification, api_key_verify
from models.tokens import MAX_TOKEN_LENGTH
from web.bodies import BadBody, json_object
from web.problems import problem
from web.state import CLOCK


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
    try:
        body = json_object(await request.read())
    except web.HTTPRequestEntityTooLarge:
        return problem(
            413, "Content Too Large", f"The body is larger than {request.client_max_size:,} bytes."
        )
    except BadBody as error:
        return problem(400, "Bad Request", error.message)
    key = body.get("key")
    if not isinstance(key, str):
        return problem(400, "Bad Request", 'The body needs a string "key".')
    if len(key) > MAX_TOKEN_LENGTH:
        return problem(400, "Bad Request", f'"key" is longer than {MAX_TOKEN_LENGTH} characters.')
    result = await api_key_verify(token=key, now=request.app[CLOCK]())
    return web.json_response(_verification_body(result), headers={"Cache-Control": "no-store"})
