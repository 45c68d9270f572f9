"""The GraphQL endpoint's HTTP side: what it refuses before any resolver runs, and the context
each request's resolvers get.

The view bounds the request around the document: JSON bodies only on POST (so no form or
`text/plain` request a browser may send cross-site without a preflight), queries only on GET
(strawberry's own rule), no batches, no WebSocket upgrades (which would bypass all of this), and a
query text of at most `MAX_QUERY_CHARS`. Refusals are GraphQL-shaped JSON with an
`extensions.code`.
"""

from __future__ import annotations

from typing import TypeGuard

from aiohttp import web
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from strawberry.aiohttp.views import GraphQLView as StrawberryView
from strawberry.http import GraphQLRequestData

from schema.context import Context
from web.client import client_address
from web.pages import graphiql_response
from web.request_id import request_context
from web.state import CLOCK, NOW, PASSWORDS, POLICIES, PRINCIPAL, SETTINGS

MAX_QUERY_CHARS = 15_000


def graphql_refusal(status: int, message: str, code: str = "BAD_REQUEST") -> web.Response:
    return web.json_response(
        {"errors": [{"message": message, "extensions": {"code": code}}]}, status=status
    )


class GraphQLView(StrawberryView[Context, None]):
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

    async def get_context(
        self, request: web.Request, response: web.Response | web.WebSocketResponse
    ) -> Context:
        settings = request.app[SETTINGS]
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
