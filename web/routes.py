"""Every route of the API process, in one place: GraphQL, the REST endpoints, health, pages.

CORS: aiohttp-cors with the exact `CORS_ORIGINS` only (never `*`); credentials are bearer
headers, so cookies are never allowed cross-origin.
"""

from __future__ import annotations

import aiohttp_cors
from aiohttp import web

from schema import build_schema
from settings import Settings
from web.audit_export import audit_events_download
from web.graphql_view import GraphQLView
from web.health import healthz, readyz
from web.pages import add_pages
from web.verify import verify_key

CORS_PATHS = frozenset({"/graphql", "/v1/keys/verify"})
CORS_MAX_AGE_SECONDS = 600


def setup_routes(app: web.Application, settings: Settings) -> None:
    view = GraphQLView(schema=build_schema(introspection=settings.graphql_introspection))
    app.router.add_get("/graphql", view)
    app.router.add_post("/graphql", view)
    app.router.add_post("/v1/keys/verify", verify_key)
    app.router.add_get("/v1/organizations/{id}/audit-events", audit_events_download)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    add_pages(app)
    cors_setup(app, settings.cors_origins)


def cors_setup(app: web.Application, origins: tuple[str, ...]) -> None:
    """Allow the exact `origins` to call the API routes from a browser."""
    if not origins:
        return
    options = aiohttp_cors.ResourceOptions(  # type: ignore[no-untyped-call]
        allow_credentials=False,
        allow_headers=("Authorization", "Content-Type"),
        allow_methods=("GET", "POST"),
        expose_headers=("WWW-Authenticate",),
        max_age=CORS_MAX_AGE_SECONDS,
    )
    cors = aiohttp_cors.setup(app, defaults={origin: options for origin in origins})
    for route in list(app.router.routes()):
        info = route.resource.get_info() if route.resource else {}
        if info.get("path") in CORS_PATHS and route.method in ("GET", "POST"):
            cors.add(route)
