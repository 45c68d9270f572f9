"""The browser tests' fixtures: the server, Chromium, and a browser context that records console
errors. Test modules load them with `pytest_plugins = ["tests.browser_fixtures"]`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser_support import CHROMIUM_ARGS, chromium_path, keyward_server, require_sqlite_pass


@pytest.fixture(scope="module")
def chromium() -> str:
    """The Chromium to drive; skips (saying why) before anything starts when it cannot run."""
    require_sqlite_pass()
    executable = chromium_path()
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("browser tests SKIPPED: playwright is not installed (pip install -e '.[test]')")
    return executable


@pytest.fixture(scope="module")
def server_dir(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the server keeps its SQLite file (keyward.sqlite3) and its log (server.log)."""
    return tmp_path_factory.mktemp("keyward")


@pytest.fixture(scope="module")
def server(server_dir: Path) -> Iterator[str]:
    with keyward_server(server_dir) as base:
        yield base


@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, headless=True, args=CHROMIUM_ARGS
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

    def on_console(message: Any) -> None:
        if message.type == "error":
            console_errors.append(message.text)

    context.on("console", on_console)
    context.on("weberror", lambda error: console_errors.append(str(error.error)))
    yield context
    context.close()
