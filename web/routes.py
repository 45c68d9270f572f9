"""Every route of the API process, in one place: GraphQL, the REST endpoints, health, pages.

CORS: aiohttp-cors with the exact `CORS_ORIGINS` only (never `*`); credentials are bearer
headers, so cookies are never allowed cross-origin.
"""

from __future__ import annotations

import aiohttp_cors
from aiohttp import web

from schema import build_schema
from settings import Settings
from web.audit_export import AUDIT_EVENTS, audit_events_download
from web.github_keys import GitHubKeys
from web.graphql_view import GraphQLView
from web.health import HEALTHZ, READYZ, healthz, readyz
from web.leak_reports import REPORT_LEAK, report_leak
from web.pages import add_pages
from web.rest import OPENAPI, add_rest_endpoint, openapi_json
from web.secret_scanning import GITHUB_SECRET_SCANNING, github_secret_scanning
from web.state import GITHUB_KEYS
from web.verify import VERIFY, verify_key

CORS_PATHS = frozenset({"/graphql", "/v1/keys/verify"})
CORS_MAX_AGE_SECONDS = 600


def setup_routes(app: web.Application, settings: Settings) -> None:
    view = GraphQLView(
        schema=build_schema(
            introspection=settings.graphql_introspection, max_cost=settings.graphql_max_cost
        )
    )
    # No HEAD: aiohttp answers it 405 with `Allow: GET,POST`, as it does PUT or DELETE.
    app.router.add_get("/graphql", view, allow_head=False)
    app.router.add_post("/graphql", view)
    # REST endpoints: one line each, and each is described in /openapi.json (see web/rest.py).
    add_rest_endpoint(app, "POST", "/v1/keys/verify", verify_key, VERIFY)
    app[GITHUB_KEYS] = GitHubKeys(
        url=settings.github_secret_scanning_keys_url,
        file=settings.github_secret_scanning_keys_file,
    )
    add_rest_endpoint(
        app, "POST", "/v1/secret-scanning/github", github_secret_scanning, GITHUB_SECRET_SCANNING
    )
    add_rest_endpoint(app, "POST", "/v1/keys/report-leak", report_leak, REPORT_LEAK)
    add_rest_endpoint(
        app, "GET", "/v1/organizations/{id}/audit-events", audit_events_download, AUDIT_EVENTS
    )
    add_rest_endpoint(app, "GET", "/healthz", healthz, HEALTHZ)
    add_rest_endpoint(app, "GET", "/readyz", readyz, READYZ)
    add_rest_endpoint(app, "GET", "/openapi.json", openapi_json, OPENAPI)
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
