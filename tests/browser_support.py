"""The browser tests' harness: keyward served by its own process on a free port, and Debian's
Chromium driven by Playwright for Python.

Playwright's own browser download does not work on our machines, so it drives the system's
`/usr/bin/chromium` (or `$CHROMIUM`). Without Chromium or Playwright the tests are skipped with
a message saying what to install, shown in pytest's summary (`-rs`), never silently.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
DOCS = ROOT / "docs"
DOCS_SCREENSHOT = DOCS / "api-keys.png"
DOCS_PHONE_SCREENSHOT = DOCS / "api-keys-phone.png"
# axe-core, from the npm registry (`npm pack axe-core@4.14.1`), with its licence beside it
AXE = Path(__file__).resolve().parent / "vendor" / "axe-core@4.14.1" / "axe.min.js"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
]
STARTUP_SECONDS = 30


def chromium_path() -> str:
    """The system Chromium, or a skip that says how to get it."""
    candidate = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(candidate).is_file():
        pytest.skip(
            f"browser tests SKIPPED: no Chromium at {candidate}; "
            "install it with `apt-get install -y chromium` (or set CHROMIUM=/path/to/chromium)"
        )
    return candidate


def require_sqlite_pass() -> None:
    if os.environ.get("TEST_DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        pytest.skip("browser tests run in the SQLite pass only: the pages do not touch SQL")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def keyward_server(workdir: Path) -> Iterator[str]:
    """`python server.py serve` on a fresh SQLite file and a free port; yields its base URL."""
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("TEST_DATABASE_URL", "DATABASE_URL", "CORS_ORIGINS", "TOKEN_PREFIX")
    }
    env |= {
        "DATABASE_URL": f"sqlite://{workdir / 'keyward.sqlite3'}",
        # argon2 at a test cost: the production cost is ~100 ms and 64 MiB a hash
        "PASSWORD_TIME_COST": "1",
        "PASSWORD_MEMORY_KIB": "1024",
        # every browser test signs up from 127.0.0.1: lift the per-address sign-up limit
        "SIGN_UP_MAX_PER_ADDRESS_PER_HOUR": "1000000",
        # verification counts reach the dashboard within a fifth of a second
        "USAGE_FLUSH_SECONDS": "0.2",
    }
    log_path = workdir / "server.log"
    command = [sys.executable, "server.py", "serve", "--port", str(port), "--no-scheduler"]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail(f"keyward exited with {process.returncode}:\n{log_path.read_text()}")
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"keyward did not answer /healthz:\n{log_path.read_text()}")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def verify(base: str, token: str) -> dict[str, Any]:
    """What a resource server hears from `POST /v1/keys/verify`."""
    request = urllib.request.Request(
        f"{base}/v1/keys/verify",
        data=json.dumps({"key": token}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())  # type: ignore[no-any-return]


def graphql(
    base: str, query: str, variables: dict[str, Any] | None = None, token: str | None = None
) -> dict[str, Any]:
    """The API's `data` for one operation, as a client would send it; fails on `errors`."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(
        f"{base}/graphql",
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers=headers,
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        body = json.loads(response.read())
    if body.get("errors"):
        pytest.fail(f"unexpected GraphQL errors: {body['errors']}")
    return body["data"]  # type: ignore[no-any-return]


def axe_violations(page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now, one line each.
    axe is evaluated through the browser's debugging protocol, which the page's CSP does not
    govern, so the page under test stays exactly as served."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text())
    results = page.evaluate(
        """async () => {
            const { violations } = await axe.run(document, {
                resultTypes: ["violations"],
                runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa",
                                                  "best-practice"] },
            });
            return violations
                .filter((v) => v.impact === "serious" || v.impact === "critical")
                .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.length}x, e.g. `
                    + `${v.nodes[0].target.join(" ")}: ${v.nodes[0].failureSummary})`);
        }"""
    )
    return list(results)


def screenshot(page: Any, name: str) -> Path:
    """Save the page as tests/artifacts/<name>.png (gitignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def update_docs_screenshot(path: Path, target: Path = DOCS_SCREENSHOT) -> None:
    """With KEYWARD_UPDATE_SCREENSHOT=1, the README's screenshot `target` becomes this one."""
    if os.environ.get("KEYWARD_UPDATE_SCREENSHOT") == "1":
        target.parent.mkdir(exist_ok=True)
        shutil.copyfile(path, target)
