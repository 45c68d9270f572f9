"""`X-Request-Id`: every request has one, taken from the client when it sent a sane one (1 to 128
letters, digits and `-_.:`) and generated otherwise, and echoed in the response, so an audit
event, a log line and a client's report name the same request.

Also builds the domain's view of a request (`RequestContext`): client address after
`TRUSTED_PROXY_HOPS`, user agent cut to 256 characters, request id.
"""

from __future__ import annotations

import re
import secrets

from aiohttp import web

from models.request_context import RequestContext
from web.client import client_address
from web.state import Handler

HEADER = "X-Request-Id"
_SANE = re.compile(r"[A-Za-z0-9._:-]{1,128}")
REQUEST_ID: web.RequestKey[str] = web.RequestKey("request_id", str)


@web.middleware
async def request_id(request: web.Request, handler: Handler) -> web.StreamResponse:
    offered = request.headers.get(HEADER, "")
    request[REQUEST_ID] = offered if _SANE.fullmatch(offered) else secrets.token_hex(16)
    try:
        response = await handler(request)
    except web.HTTPException as error:
        error.headers[HEADER] = request[REQUEST_ID]
        raise
    if not response.prepared:
        response.headers[HEADER] = request[REQUEST_ID]
    return response


def request_context(request: web.Request, trusted_proxy_hops: int) -> RequestContext:
    return RequestContext.of(
        client_address=client_address(request, trusted_proxy_hops),
        user_agent=request.headers.get("User-Agent"),
        request_id=request.get(REQUEST_ID),
    )
