"""What the GraphQL endpoint refuses before any resolver runs, and what it logs.

The schema's extensions bound a document (depth, aliases, tokens: see `schema/__init__.py`);
this view bounds the request around it: JSON bodies only on POST (so no form or `text/plain`
request a browser may send cross-site without a preflight), queries only on GET (strawberry's
own rule), no batches, no WebSocket upgrades (which would bypass all of this), and a query text
of at most `MAX_QUERY_CHARS`. Refusals are GraphQL-shaped JSON with an `extensions.code`.

`GuardedSchema.process_errors` logs unexpected errors in full, with their traceback, but never
the document's source text (which may hold a token literal) nor the expected errors (coded
errors, invalid queries), which are the client's business, not the operator's.
"""

from __future__ import annotations

import logging
from typing import TypeGuard

import strawberry
from aiohttp import web
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError
from strawberry.aiohttp.views import GraphQLView
from strawberry.http import GraphQLRequestData
from strawberry.http.typevars import Context, RootValue
from strawberry.types import ExecutionContext

from models.errors import DomainError
from schema.errors import is_coded

MAX_QUERY_CHARS = 15_000

log = logging.getLogger("keyward.graphql")


def graphql_refusal(status: int, message: str, code: str = "BAD_REQUEST") -> web.Response:
    return web.json_response(
        {"errors": [{"message": message, "extensions": {"code": code}}]}, status=status
    )


class GuardedGraphQLView(GraphQLView[Context, RootValue]):
    def is_websocket_request(self, request: web.Request) -> TypeGuard[web.Request]:
        return False

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        content_type = (request.content_type or "").split(";")[0].strip().lower()
        if request.method == "POST" and content_type != "application/json":
            raise HTTPException(415, "Send GraphQL requests as POST with an application/json body.")
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

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        try:
            return await self.run(request=request)
        except HTTPException as error:
            return graphql_refusal(error.status_code, error.reason)
        except web.HTTPRequestEntityTooLarge:
            return graphql_refusal(
                413,
                f"The request body is larger than {request.client_max_size:,} bytes.",
                code="PAYLOAD_TOO_LARGE",
            )


class GuardedSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            original = error.original_error
            if is_coded(error) or isinstance(original, DomainError):
                continue
            log.error(
                "Unexpected error in %s at %s: %s",
                execution_context.operation_name if execution_context else None,
                ".".join(str(part) for part in error.path or ()),
                error.message,
                exc_info=original,
            )
