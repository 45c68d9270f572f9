"""The access log: one logfmt line per request, with its id, that never records a query string
or a header value.

`method=POST route=/graphql path=/graphql status=200 bytes=512 duration_ms=4.1 remote=…`, and
the request's `request_id` (in text output at the end of the line, in JSON output as a field).
The route is the matched template; the path is shown redacted, without its query string.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from web.observe import route_template
from web.redaction import redact
from web.state import request_id


class AccessLogger(AbstractAccessLogger):
    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info(
            "method=%s route=%s path=%s status=%s bytes=%s duration_ms=%.1f remote=%s",
            request.method,
            route_template(request),
            redact(request.rel_url.raw_path),
            response.status,
            response.body_length,
            time * 1000,
            request.remote,
            extra={"request_id": request_id(request)},
        )
