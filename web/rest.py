"""keyward's REST endpoints and their OpenAPI 3.1 document, from one registration each.

`add_rest_endpoint(app, "POST", "/v1/keys/verify", verify_key, VERIFY)` adds the route and its
entry in `GET /openapi.json`; the `Operation` beside the handler names its request and reply
shapes (`web/shapes.py`), which the handler itself uses. Errors under `/v1/` (unknown paths and
methods included) are problem documents.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from web.problems import PROBLEM_JSON, Problem, problem
from web.shapes import json_schema
from web.state import Handler

OPENAPI_VERSION = "3.1.0"
API_VERSION = "0.1.0"
REST_PREFIX = "/v1/"


@dataclass(frozen=True)
class Reply:
    """One documented response: its description, body shape and headers."""

    description: str
    shape: type | None = None
    media_type: str = "application/json"
    schema: Mapping[str, Any] | None = None  # a body with no shape class of its own
    headers: Mapping[str, str] = field(default_factory=dict)  # name -> description


@dataclass(frozen=True)
class Operation:
    summary: str
    description: str
    replies: Mapping[int, Reply]
    request: type | None = None
    request_schema: Mapping[str, Any] | None = None  # a body with no shape class of its own
    parameters: tuple[Mapping[str, Any], ...] = ()  # OpenAPI parameter objects (path, query)


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    handler: Handler
    operation: Operation


# The REST endpoints, as `add_rest_endpoint` registered them for /openapi.json.
REST_ENDPOINTS: web.AppKey[list[Endpoint]] = web.AppKey("rest_endpoints")


def problems(descriptions: Mapping[int, str]) -> dict[int, Reply]:
    """Problem-document replies; a 429 or 503 also announces `Retry-After`."""
    return {
        status: Reply(
            description,
            Problem,
            PROBLEM_JSON,
            {"Retry-After": "Seconds to wait before retrying."} if status in (429, 503) else {},
        )
        for status, description in descriptions.items()
    }


def add_rest_endpoint(
    app: web.Application, method: str, path: str, handler: Handler, operation: Operation
) -> None:
    """Serve `handler` at `method path` and describe it in `/openapi.json`."""
    app.router.add_route(method, path, handler)
    app.setdefault(REST_ENDPOINTS, []).append(Endpoint(method, path, handler, operation))


def _operation_id(handler: Handler) -> str:
    head, *rest = handler.__name__.split("_")
    return head + "".join(part.title() for part in rest)


def openapi_document(endpoints: list[Endpoint]) -> dict[str, Any]:
    schemas: dict[str, Any] = {}

    def ref(shape: type) -> dict[str, str]:
        schemas[shape.__name__] = json_schema(shape)
        return {"$ref": f"#/components/schemas/{shape.__name__}"}

    paths: dict[str, dict[str, Any]] = {}
    for endpoint in endpoints:
        operation = endpoint.operation
        responses: dict[str, Any] = {}
        for status, reply in sorted(operation.replies.items()):
            entry: dict[str, Any] = {"description": reply.description}
            if reply.shape is not None:
                entry["content"] = {reply.media_type: {"schema": ref(reply.shape)}}
            elif reply.schema is not None:
                entry["content"] = {reply.media_type: {"schema": dict(reply.schema)}}
            if reply.headers:
                entry["headers"] = {
                    name: {"description": text, "required": True, "schema": {"type": "string"}}
                    for name, text in reply.headers.items()
                }
            responses[str(status)] = entry
        described: dict[str, Any] = {
            "operationId": _operation_id(endpoint.handler),
            "summary": operation.summary,
            "description": operation.description,
            "responses": responses,
        }
        if operation.parameters:
            described["parameters"] = [dict(parameter) for parameter in operation.parameters]
        if operation.request is not None or operation.request_schema is not None:
            body = (
                ref(operation.request)
                if operation.request is not None
                else dict(operation.request_schema or {})
            )
            described["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": body}},
            }
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = described
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "keyward REST API",
            "version": API_VERSION,
            "description": "Verify API keys from your own servers, and probe keyward's health. "
            "Everything else (keys, organizations, sessions) is GraphQL at /graphql.",
        },
        "paths": paths,
        "components": {"schemas": dict(sorted(schemas.items()))},
    }


async def openapi_json(request: web.Request) -> web.Response:
    return web.json_response(openapi_document(request.app[REST_ENDPOINTS]))


OPENAPI = Operation(
    summary="This document",
    description="The OpenAPI 3.1 description of keyward's REST endpoints.",
    replies={
        200: Reply(
            "The OpenAPI document.",
            schema={"type": "object", "required": ["openapi", "info", "paths"]},
        )
    },
)


@web.middleware
async def rest_problems(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Under `/v1/`, an unknown path (404) or method (405, with `Allow`) is a problem document
    like the endpoints' own errors."""
    if not request.path.startswith(REST_PREFIX):
        return await handler(request)
    try:
        return await handler(request)
    except web.HTTPMethodNotAllowed as error:
        return problem(
            405,
            "Method Not Allowed",
            f"{request.method} is not served here; use {', '.join(sorted(error.allowed_methods))}.",
            headers={"Allow": error.headers["Allow"]},
        )
    except web.HTTPNotFound:
        return problem(404, "Not Found", f"There is no endpoint at {request.path}.")
