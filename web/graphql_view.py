"""The GraphQL endpoint's HTTP side: what it refuses before any resolver runs, the media type and
status it answers with, and the context each request's resolvers get.

The view bounds the request around the document: JSON bodies only on POST (so no form or
`text/plain` request a browser may send cross-site without a preflight), queries only on GET
(a mutation over GET is 405 with `Allow: POST`), no batches, no WebSocket upgrades (which would
bypass all of this), and a query text of at most `MAX_QUERY_CHARS`. Refusals are GraphQL-shaped
JSON with an `extensions.code`.

GraphQL over HTTP (the specification's current draft): a client that accepts
`application/graphql-response+json` gets it, with 400 for a request error (parse, validation,
variables, unknown operation) and 200 whenever execution started; `application/json` stays the
default and answers 200. A request error never carries a `data` entry, whatever the media type.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, TypeGuard

import orjson
from aiohttp import web
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError
from strawberry.aiohttp.views import GraphQLView as StrawberryView
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.types import QueryParams
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError

from models.key_lookup import last_used_settled
from schema.context import Context
from web.bodies import BadBody, json_value
from web.client import client_address
from web.media import GRAPHQL_RESPONSE_JSON, JSON, negotiate
from web.pages import graphiql_response
from web.request_context import request_context
from web.state import CLOCK, NOW, PASSWORDS, POLICIES, PRINCIPAL, SETTINGS

MAX_QUERY_CHARS = 15_000
# The GET parameters an empty value leaves absent (`&operationName=` is no operation name).
_OPTIONAL_GET_PARAMETERS = ("operationName", "variables", "extensions")

MEDIA_TYPE: web.RequestKey[str] = web.RequestKey("graphql_media_type", str)
REQUEST_ERROR: web.RequestKey[bool] = web.RequestKey("graphql_request_error", bool)


class Refusal(HTTPException):
    """An HTTP refusal with headers of its own (`Allow` on a 405)."""

    def __init__(self, status_code: int, reason: str, headers: dict[str, str]) -> None:
        super().__init__(status_code, reason)
        self.headers = headers


def graphql_refusal(
    status: int,
    message: str,
    code: str = "BAD_REQUEST",
    *,
    media_type: str = JSON,
    headers: dict[str, str] | None = None,
) -> web.Response:
    return web.json_response(
        {"errors": [{"message": message, "extensions": {"code": code}}]},
        status=status,
        content_type=media_type,
        headers=headers,
    )


def is_request_error(result: ExecutionResult) -> bool:
    """Whether the request failed before execution started: the document did not parse or
    validate, its variables did not coerce, or it names no runnable operation. Such a response
    has no `data` entry."""
    if isinstance(result, PreExecutionError):
        return True
    errors: list[GraphQLError] = result.errors or []
    return (
        result.data is None
        and bool(errors)
        and all(
            error.path is None and (error.extensions or {}).get("code") != "SERVICE_UNAVAILABLE"
            for error in errors
        )
    )


def encode_response(data: object) -> bytes:
    """A response body as UTF-8 JSON. orjson writes a page of 50 keys in ~18 µs against the
    standard encoder's ~230 µs; anything it refuses (an integer past 64 bits) is written by the
    standard encoder, as before."""
    try:
        return orjson.dumps(data)
    except TypeError:
        return json.dumps(data, separators=(",", ":")).encode()


class GraphQLView(StrawberryView[Context, None]):
    def is_websocket_request(self, request: web.Request) -> TypeGuard[web.Request]:
        return False

    def parse_query_params(self, params: QueryParams) -> dict[str, Any]:
        present = {
            name: value
            for name, value in params.items()
            if not (name in _OPTIONAL_GET_PARAMETERS and value in ("", None))
        }
        return super().parse_query_params(present)

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        content_type = (request.content_type or "").split(";")[0].strip().lower()
        if request.method == "POST" and content_type != "application/json":
            raise HTTPException(415, "Send GraphQL requests as POST with an application/json body.")
        if request.method == "POST":
            self.decode_body(await request.get_body())
        data = await super().parse_http_body(request)
        if isinstance(data, list):
            raise HTTPException(400, "Batching is not enabled: send one operation per request.")
        if data.query is not None and len(data.query) > MAX_QUERY_CHARS:
            raise HTTPException(
                400,
                f"The query has {len(data.query):,} characters; at most {MAX_QUERY_CHARS:,} "
                "are accepted.",
            )
        return data

    def decode_body(self, data: str | bytes) -> None:
        """Refuse a POST body that is not one bounded JSON object (see `web.bodies`)."""
        try:
            value = json_value(data)
        except BadBody as error:
            raise HTTPException(400, error.message) from None
        if not isinstance(value, dict | list):  # a list is a batch: refused below
            raise HTTPException(400, "The body must be a JSON object.")

    def decode_json(self, data: str | bytes) -> object:
        try:
            return json_value(data)
        except BadBody as error:
            raise HTTPException(400, error.message) from None

    async def execute_single(self, *args: Any, **kwargs: Any) -> ExecutionResult:
        try:
            return await super().execute_single(*args, **kwargs)
        except HTTPException as error:
            if isinstance(error.__cause__, InvalidOperationTypeError):
                # Only a mutation (or subscription) over GET lands here: GET is for queries.
                raise Refusal(
                    405, "Mutations are sent as POST, never GET.", {"Allow": "POST"}
                ) from None
            raise

    async def process_result(
        self, request: web.Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        response = await super().process_result(request, result)
        if is_request_error(result):
            request[REQUEST_ERROR] = True
            response.pop("data", None)
        # Between executing a result and encoding it (a page of keys: ~0.3 ms each), the loop
        # runs what waits behind this request: verifications.
        await asyncio.sleep(0)
        return response

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: web.Response,
    ) -> web.Response:
        sub_response.body = encode_response(response_data)
        sub_response.content_type = JSON
        sub_response.charset = "utf-8"
        return sub_response

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        media_type = negotiate(request.headers.get("Accept"))
        request[MEDIA_TYPE] = media_type
        try:
            response = await self.run(request=request)
        except Refusal as error:
            return graphql_refusal(
                error.status_code, error.reason, media_type=media_type, headers=error.headers
            )
        except HTTPException as error:
            return graphql_refusal(error.status_code, error.reason, media_type=media_type)
        except web.HTTPRequestEntityTooLarge:
            return graphql_refusal(
                413,
                f"The request body is larger than {request.client_max_size:,} bytes.",
                code="PAYLOAD_TOO_LARGE",
                media_type=media_type,
            )
        if isinstance(response, web.Response) and response.content_type == JSON:
            response.content_type = media_type
            if media_type == GRAPHQL_RESPONSE_JSON and request.get(REQUEST_ERROR):
                response.set_status(400)
        return response

    async def get_context(
        self, request: web.Request, response: web.Response | web.WebSocketResponse
    ) -> Context:
        settings = request.app[SETTINGS]
        await last_used_settled()  # a verification's use shows in what this request reads
        return Context(
            settings=settings,
            policies=request.app[POLICIES],
            passwords=request.app[PASSWORDS],
            now=request.get(NOW) or request.app[CLOCK](),
            principal=request.get(PRINCIPAL),
            client_address=client_address(request, settings.trusted_proxy_hops),
            request=request_context(request, settings.trusted_proxy_hops),
        )

    async def render_graphql_ide(self, request: web.Request) -> web.Response:
        """GraphiQL with its assets served by keyward, under a CSP (see web/pages.py)."""
        return graphiql_response(self.graphql_ide_html)
