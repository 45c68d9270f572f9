"""The outermost middleware: a request id for every request, and its HTTP metrics.

- The id is the client's `X-Request-Id` when it is 1-128 safe characters, else a new random one;
  it is echoed in the response's `X-Request-Id` (`echo_request_id`, a response signal, so 404s
  and other answers aiohttp makes from exceptions carry it too), stored under `REQUEST_ID`, and
  held in the request scope, so every log line written for the request carries it.
- `http_server_request_duration_seconds` by method, route *template* (never the raw path, which
  may hold ids) and status. For `/v1/keys/verify` also its latency and, when it answered a
  problem instead of a verification (400, 413, 503, …), that problem as the final outcome (the
  handler counts the verifications it answers itself). For `/graphql`, a request refused before
  any operation ran (401, 413, 415, …) is counted as an operation of unknown type.
"""

from __future__ import annotations

import asyncio
import time

from aiohttp import web

from telemetry.metrics import (
    HTTP_REQUEST_DURATION,
    KEY_VERIFICATION_DURATION,
    RECORDING,
    child,
    graphql_operation_observed,
    held_observe,
    problem_outcome,
    verification_observed,
)
from telemetry.requests import request_id_choose, request_scope
from web.state import REQUEST_ID, Handler

REQUEST_ID_HEADER = "X-Request-Id"
VERIFY_ROUTE = "/v1/keys/verify"
GRAPHQL_ROUTE = "/graphql"
UNMATCHED = "unmatched"
# OpenTelemetry's rule: known methods as they are, anything else as `_OTHER` (bounded labels).
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Statuses of a GraphQL request refused for its size or rate rather than for its content.
LIMITED_STATUSES = frozenset({413, 429})
CLIENT_CLOSED = 499


def route_template(request: web.BaseRequest) -> str:
    """The template of the route that matched (`/graphql`), or `unmatched`."""
    try:
        match_info = getattr(request, "match_info", None)
    except AssertionError:  # refused before routing (aiohttp's parser found it malformed)
        return UNMATCHED
    resource = None if match_info is None else match_info.route.resource
    return UNMATCHED if resource is None else resource.canonical


def observed(
    method: str, route: str, status: int, seconds: float, graphql_counted: bool = False
) -> None:
    """A request answered: its HTTP metrics (and, for verification, its latency and a problem's
    outcome); nothing while metrics are off."""
    if not RECORDING.on:
        return
    method = method if method in KNOWN_METHODS else "_OTHER"
    held_observe(child(HTTP_REQUEST_DURATION, method, route, str(status)), seconds)
    if route == VERIFY_ROUTE:
        held_observe(KEY_VERIFICATION_DURATION, seconds)
        if status != 200:
            verification_observed(problem_outcome(status), "UNKNOWN")
    elif route == GRAPHQL_ROUTE and status >= 400 and not graphql_counted:
        if status == 401:
            result = "unauthenticated"
        elif status in LIMITED_STATUSES:
            result = "limited"
        else:
            result = "error"
        graphql_operation_observed("unknown", result)


@web.middleware
async def observe(request: web.Request, handler: Handler) -> web.StreamResponse:
    request_id = request_id_choose(request.headers.get(REQUEST_ID_HEADER))
    request[REQUEST_ID] = request_id
    started = time.perf_counter()
    status = 500
    with request_scope(request_id) as scope:
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as error:
            status = error.status
            raise
        except asyncio.CancelledError:
            status = CLIENT_CLOSED
            raise
        finally:
            if RECORDING.on:
                seconds = time.perf_counter() - started
                observed(
                    request.method, route_template(request), status, seconds, scope.graphql_counted
                )


async def echo_request_id(request: web.BaseRequest, response: web.StreamResponse) -> None:
    request_id = request.get(REQUEST_ID)
    if isinstance(request_id, str):
        response.headers[REQUEST_ID_HEADER] = request_id
