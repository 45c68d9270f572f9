"""The domain's view of a request (`RequestContext`), for the events it records: the client
address after `TRUSTED_PROXY_HOPS`, the user agent cut to 256 characters, and the request id
(`X-Request-Id`, chosen and echoed by `web.observe`)."""

from __future__ import annotations

from aiohttp import web

from models.request_context import RequestContext
from web.client import client_address
from web.state import request_id


def request_context(request: web.Request, trusted_proxy_hops: int) -> RequestContext:
    return RequestContext.of(
        client_address=client_address(request, trusted_proxy_hops),
        user_agent=request.headers.get("User-Agent"),
        request_id=request_id(request),
    )
