"""GraphiQL at /graphql works with no internet: every asset comes from keyward itself."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

from tests.browser_support import screenshot

pytest_plugins = ["tests.browser_fixtures"]

LOCAL_HOSTS = {"127.0.0.1", "localhost"}
QUERY = "query Hello {\n  __typename\n  me { email }\n}\n"


def test_graphiql_runs_a_query_with_the_outside_network_blocked(
    context: Any, server: str, console_errors: list[str]
) -> None:
    from playwright.sync_api import Route, expect

    # given a browser that can reach nothing but keyward
    blocked: list[str] = []

    def local_only(route: Route) -> None:
        url = route.request.url
        if url.startswith("data:") or urlsplit(url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    context.route("**/*", local_only)
    page = context.new_page()

    # when GraphiQL opens with a query and runs it
    response = page.goto(f"{server}/graphql?q={quote(QUERY)}")
    assert response is not None
    assert "script-src 'self'" in response.headers["content-security-policy"]
    editor = page.locator(".graphiql-query-editor")
    expect(editor).to_be_visible(timeout=15_000)
    expect(editor).to_contain_text("query Hello")
    page.locator(".graphiql-execute-button").click()

    # then the answer shows, and nothing was fetched from outside
    result = page.locator(".graphiql-response")
    expect(result).to_contain_text('"__typename": "Query"', timeout=15_000)
    expect(result).to_contain_text('"me": null')
    screenshot(page, "graphiql")
    assert blocked == []
    assert console_errors == []
