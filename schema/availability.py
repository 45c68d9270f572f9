"""When the database cannot answer, a clear "try again" instead of a crash.

The API keeps running while PostgreSQL is down or restarting: `/v1/keys/verify` answers 503
`application/problem+json`, GraphQL a top-level error with `extensions.code`
`SERVICE_UNAVAILABLE`, and `/readyz` says not ready so a load balancer stops sending traffic.
`/healthz` never touches the database: the process is alive, a restart would not help. The
connection pool reconnects by itself once the database is back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

from aiohttp import web
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from tortoise.connection import get_connection

from models.database import database_unavailable
from schema.errors import CodedError
from schema.http import Handler, problem

log = logging.getLogger("keyward.database")

# A readiness probe must answer before the orchestrator's own timeout (often 1 s).
READY_TIMEOUT_SECONDS = 0.8
RETRY_AFTER_SECONDS = "1"
_MESSAGE = "The database is unavailable right now; try again shortly."


class ServiceUnavailable(CodedError):
    code = "SERVICE_UNAVAILABLE"
    default_message = _MESSAGE


def _graphql_unavailable() -> web.Response:
    error = {"message": _MESSAGE, "extensions": {"code": ServiceUnavailable.code}}
    return web.json_response(
        {"data": None, "errors": [error]},
        status=503,
        headers={"Retry-After": RETRY_AFTER_SECONDS},
    )


@web.middleware
async def unavailable(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer 503 when the database fails a request outside GraphQL's resolvers (the bearer
    lookup, `/v1/keys/verify`)."""
    try:
        return await handler(request)
    except Exception as error:
        if not database_unavailable(error):
            raise
        log.warning("database unavailable: %s %s: %r", request.method, request.path, error)
        if request.path == "/graphql":
            return _graphql_unavailable()
        response = problem(503, "Service Unavailable", _MESSAGE)
        response.headers["Retry-After"] = RETRY_AFTER_SECONDS
        return response


class DatabaseUnavailable(SchemaExtension):
    """Turn a resolver's database-unavailable error into a `SERVICE_UNAVAILABLE` top-level error.
    Listed after `MaskErrors`, so it sees the error before masking would hide it."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if result is None or not errors:
            return
        replaced: list[GraphQLError] = []
        for error in errors:
            if database_unavailable(error.original_error):
                log.warning("database unavailable in %s: %r", error.path, error.original_error)
                error = ServiceUnavailable()
            replaced.append(error)
        result.errors = replaced


async def readyz(request: web.Request) -> web.Response:
    """200 when the database answers a trivial query in time, 503 otherwise."""
    try:
        await asyncio.wait_for(
            get_connection("default").execute_query("SELECT 1"), READY_TIMEOUT_SECONDS
        )
    except Exception as error:
        if not database_unavailable(error):
            raise
        return web.json_response({"status": "unavailable"}, status=503)
    return web.json_response({"status": "ready"})
