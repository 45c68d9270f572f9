"""The dashboard and GraphiQL pages over HTTP, without a browser: their Content-Security-Policy,
and GraphiQL's assets vendored exactly as strawberry's page names them (a strawberry upgrade
that moves to other versions fails here until `python static/update_vendor.py` is run)."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path
from typing import Any

import pytest
import strawberry
from aiohttp.test_utils import TestClient

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "static" / "vendor"
STRAWBERRY_PAGE = (Path(strawberry.__file__).parent / "static" / "graphiql.html").read_text()
UNPKG_ASSET = re.compile(
    r'"https://unpkg\.com/(?P<path>[^"]+)"\s+integrity="sha384-(?P<digest>[A-Za-z0-9+/=]+)"'
)
ASSETS = [(m["path"], m["digest"]) for m in UNPKG_ASSET.finditer(STRAWBERRY_PAGE)]


def directives(policy: str) -> dict[str, list[str]]:
    parts = (part.split() for part in policy.split(";") if part.strip())
    return {name: values for name, *values in parts}


def test_strawberry_page_names_seven_assets() -> None:
    assert len(ASSETS) == 7


@pytest.mark.parametrize(("path", "digest"), ASSETS, ids=[path for path, _ in ASSETS])
def test_vendored_asset_matches_the_page_integrity_hash(path: str, digest: str) -> None:
    file = VENDOR / path
    assert file.is_file(), f"{path} is not vendored: run `python static/update_vendor.py`"
    assert base64.b64encode(hashlib.sha384(file.read_bytes()).digest()).decode() == digest
    spec = "/".join(path.split("/")[: 2 if path.startswith("@") else 1])
    assert (VENDOR / spec / "LICENSE").is_file()
    assert f"`{spec}`" in (VENDOR / "VERSIONS.md").read_text()


async def test_graphiql_page_loads_its_assets_from_keyward(client: TestClient[Any, Any]) -> None:
    # when
    response = await client.get("/graphql", headers={"Accept": "text/html"})
    body = await response.text()
    # then
    assert response.status == 200
    assert "unpkg.com" not in body
    for path, digest in ASSETS:
        assert f"/static/vendor/{path}" in body
        asset = await client.get(f"/static/vendor/{path}")
        assert asset.status == 200
        assert base64.b64encode(hashlib.sha384(await asset.read()).digest()).decode() == digest
    policy = directives(response.headers["Content-Security-Policy"])
    assert policy["default-src"] == ["'none'"]
    assert "'unsafe-inline'" not in policy["script-src"]
    assert len([s for s in policy["script-src"] if s.startswith("'sha256-")]) == 1
    assert policy["connect-src"] == ["'self'"]


async def test_dashboard_is_served_at_the_root_under_a_strict_policy(
    client: TestClient[Any, Any],
) -> None:
    # when
    response = await client.get("/")
    body = await response.text()
    # then
    assert response.status == 200
    assert response.content_type == "text/html"
    policy = directives(response.headers["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["default-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", body) is None, "an inline script"
    assert "<style" not in body and "style=" not in body
    for asset in ("/static/dashboard/app.js", "/static/dashboard/app.css"):
        assert (await client.get(asset)).status == 200


def test_dashboard_scripts_reach_only_the_public_graphql_api() -> None:
    scripts = "\n".join(p.read_text() for p in (ROOT / "static" / "dashboard").glob("*.js"))
    assert re.findall(r"fetch\(\s*\"([^\"]+)\"", scripts) == ["/graphql"]
    assert "innerHTML" not in scripts and "localStorage" not in scripts


async def test_graphiql_page_is_in_english_and_opens_on_keywards_first_steps(
    client: TestClient[Any, Any],
) -> None:
    # when
    response = await client.get("/graphql", headers={"Accept": "text/html"})
    body = await response.text()
    # then the page names its language, and its example explains sign-up and the Headers JSON
    assert '<html lang="en">' in body
    assert "Welcome to GraphiQL" not in body
    assert "signUp(input:" in body
    assert '{"Authorization": "Bearer <token>"}' in body
    # and the rewritten inline script still runs under the page's policy (hashed as served)
    policy = directives(response.headers["Content-Security-Policy"])
    script = re.search(r"<script>(.*?)</script>", body, re.DOTALL)
    assert script is not None
    digest = base64.b64encode(hashlib.sha256(script[1].encode()).digest()).decode()
    assert f"'sha256-{digest}'" in policy["script-src"]


async def test_the_dashboards_deep_links_serve_the_dashboard(
    client: TestClient[Any, Any],
) -> None:
    # given the dashboard's own page
    root = await (await client.get("/")).text()
    for path in (
        "/orgs/3f1c0a4e-0000-4000-8000-000000000000/keys",
        "/orgs/3f1c0a4e-0000-4000-8000-000000000000/keys/9d2b7c1e-0000-4000-8000-000000000000",
    ):
        # when a deep link is opened (a reload, a bookmark)
        response = await client.get(path)
        # then it is the same page, under the same policy; the page decides what to show
        assert response.status == 200
        assert await response.text() == root
        assert directives(response.headers["Content-Security-Policy"])["script-src"] == ["'self'"]
    assert (await client.get("/orgs/x/settings")).status == 404
