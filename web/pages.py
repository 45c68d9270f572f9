"""The HTML pages served next to the API: the dashboard at `/` and GraphiQL at `/graphql`.

Both are sent with a restrictive Content-Security-Policy and load every script and style from
keyward itself, so they work on a network without internet access. The dashboard is static files
under `static/` (no inline script or style at all: `script-src 'self'`). Strawberry's GraphiQL page
names seven files on unpkg.com; the same files are vendored under `static/vendor/` at the paths
unpkg uses (`static/update_vendor.py` fetches them with `npm pack`), so the page is rewritten to
load them from `/static/vendor/` and its `integrity` attributes still hold. Its one inline script
and one inline style are allowed by their SHA-256 hashes, computed from the page itself, so a
strawberry upgrade needs no edit here (only re-vendoring, which a test would demand).
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from aiohttp import web

STATIC = Path(__file__).resolve().parent.parent / "static"
UNPKG = "https://unpkg.com/"
VENDOR_ROUTE = "/static/vendor/"
CSP = "Content-Security-Policy"

_BASE_POLICY = (
    "default-src 'none'",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
)
DASHBOARD_CSP = "; ".join(
    (*_BASE_POLICY, "script-src 'self'", "style-src 'self'", "img-src 'self'")
)
_INLINE = re.compile(r"<(script|style)>(.*?)</\1>", re.DOTALL)
_EXAMPLE_QUERY = re.compile(r"(const EXAMPLE_QUERY = `)(.*?)(`;)", re.DOTALL)
# What GraphiQL's editor shows on a first visit, instead of strawberry's generic welcome: how to
# sign up here and how to send the session token (the Headers tab takes JSON).
KEYWARD_EXAMPLE = """# keyward: sign up (or sign in) here, then send your session token.
#
# 1. Run this mutation (Ctrl-Enter, or the ▶ button) with your own email and password.
#    Already have an account? signIn(input: {email: "…", password: "…"}) answers the same way.
mutation SignUp {
  signUp(input: {email: "ada@example.com", password: "a long passphrase"}) {
    ... on SignedIn { sessionToken user { organizations { id name } } }
    ... on Error { message }
  }
}
#
# 2. Open the Headers tab below the editor and paste this JSON, with the sessionToken from the
#    answer in place of <token> (an API key's token works the same way):
#
#      {"Authorization": "Bearer <token>"}
#
# 3. Replace this text with a query of your keys, and run it:
#
#      query { me { organizations { name apiKeys(first: 10) {
#        edges { node { name type status start } } } } } }
#
# Ctrl-Space completes names; the Docs button (top left) lists every type and field.
"""


# The dashboard's own addresses (static/dashboard/router.js): a reload or a bookmark of any of
# them gets the dashboard, which then shows what the address names.
DASHBOARD_PATHS = (
    "/orgs/{organization}/keys",
    "/orgs/{organization}/keys/{key}",
    "/orgs/{organization}/members",
    "/orgs/{organization}/settings",
    "/orgs/{organization}/activity",
    "/orgs/{organization}/webhooks",
    "/account",
)


@dataclass(frozen=True)
class Page:
    body: str
    csp: str


def _hash_source(text: str) -> str:
    digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
    return f"'sha256-{digest}'"


@lru_cache(maxsize=2)
def graphiql_page(html: str) -> Page:
    """Strawberry's GraphiQL page loading its assets from keyward, in English (`lang`), opening
    on keyward's own first steps, and the policy it needs: its inline blocks by hash, `data:`
    for its icon and the fonts inlined in its stylesheet."""
    body = html.replace(UNPKG, VENDOR_ROUTE).replace("<html>", '<html lang="en">', 1)
    body = _EXAMPLE_QUERY.sub(lambda m: m[1] + KEYWARD_EXAMPLE + m[3], body, count=1)
    inline = {"script": ["'self'"], "style": ["'self'"]}
    for match in _INLINE.finditer(body):
        inline[match[1]].append(_hash_source(match[2]))
    policy = (
        *_BASE_POLICY,
        "script-src " + " ".join(inline["script"]),
        "style-src " + " ".join(inline["style"]),
        "img-src 'self' data:",
        "font-src 'self' data:",
    )
    return Page(body=body, csp="; ".join(policy))


def graphiql_response(html: str) -> web.Response:
    page = graphiql_page(html)
    return web.Response(
        text=page.body,
        content_type="text/html",
        headers={CSP: page.csp, "Cache-Control": "no-cache"},
    )


async def dashboard(request: web.Request) -> web.FileResponse:
    return web.FileResponse(
        STATIC / "index.html", headers={CSP: DASHBOARD_CSP, "Cache-Control": "no-cache"}
    )


def add_pages(app: web.Application) -> None:
    """The dashboard at `/` and at its deep links (an organization's keys, one key, its members
    and settings; the account), its assets, and the vendored GraphiQL assets."""
    app.router.add_get("/", dashboard)
    for path in DASHBOARD_PATHS:
        app.router.add_get(path, dashboard)
    app.router.add_static("/static/dashboard/", STATIC / "dashboard")
    app.router.add_static(VENDOR_ROUTE, STATIC / "vendor")
