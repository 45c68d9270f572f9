"""The browser tests' fixtures: the server, Chromium, and a browser context that records console
errors. Test modules load them with `pytest_plugins = ["tests.browser_fixtures"]`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser_support import CHROMIUM_ARGS, chromium_path, keyward_server, require_sqlite_pass


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_sqlite_pass()
    with keyward_server(tmp_path_factory.mktemp("keyward")) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    require_sqlite_pass()
    executable = chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("browser tests SKIPPED: playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def console_errors() -> list[str]:
    """Console errors and uncaught exceptions (a CSP violation is one): a test ends with none."""
    return []


@pytest.fixture
def context(browser: Any, console_errors: list[str]) -> Iterator[Any]:
    context = browser.new_context(
        viewport={"width": 1360, "height": 820}, locale="en-GB", timezone_id="UTC"
    )
    context.on(
        "console", lambda message: message.type == "error" and console_errors.append(message.text)
    )
    context.on("weberror", lambda error: console_errors.append(str(error.error)))
    yield context
    context.close()
