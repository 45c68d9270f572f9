"""The access log: one line per request that never records a query string or a header."""

from __future__ import annotations

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from web.redaction import redact


class AccessLogger(AbstractAccessLogger):
    """Address, method, path (never the query string), status, size, seconds."""

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
