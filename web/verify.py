"""`POST /v1/keys/verify {"key": …}`: whether a key is good, for resource servers.

Errors are RFC 9457 problem documents; a good or bad key is a 200 with `valid` and `code`. The
optional `clientIp` is the resource server's view of its own caller: kept only when the key turns
out to be a deleted one, to show its owner who still sends it.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from models.key_verification import Verification, api_key_verify
from models.tokens import MAX_TOKEN_LENGTH
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
    client_ip = body.get("clientIp")
    if client_ip is not None and (not isinstance(client_ip, str) or len(client_ip) > 64):
        return problem(400, "Bad Request", '"clientIp" must be a string of at most 64 characters.')
    result = await api_key_verify(
        token=key, now=request.app[CLOCK](), client_address=client_ip or None
    )
    return web.json_response(_verification_body(result), headers={"Cache-Control": "no-store"})
