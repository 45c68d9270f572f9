"""`python server.py serve` as a person first meets it: it says where it listens, a port in use
is named as such (with the option to choose another), and a port that is no port is a usage
error, not a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser_support import ROOT, keyward_server, require_sqlite_pass


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    require_sqlite_pass()
    workdir = tmp_path_factory.mktemp("serve")
    with keyward_server(workdir) as base:
        yield base, workdir


def serve(*arguments: str, workdir: Path) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "TEST_DATABASE_URL"}
    env["DATABASE_URL"] = f"sqlite://{workdir / 'other.sqlite3'}"
    return subprocess.run(
        [sys.executable, "server.py", "serve", "--no-scheduler", *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_it_says_where_it_serves(running: tuple[str, Path]) -> None:
    base, workdir = running
    log = (workdir / "server.log").read_text()
    assert (
        f"keyward: serving on {base} (dashboard /, GraphiQL /graphql), "
        f"database sqlite://{workdir / 'keyward.sqlite3'}"
    ) in log.splitlines()


def test_a_port_in_use_says_so_and_suggests_another(running: tuple[str, Path]) -> None:
    base, workdir = running
    port = int(base.rsplit(":", 1)[1])
    result = serve("--port", str(port), workdir=workdir)
    assert result.returncode == 1
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr
    assert f"--port {port + 1}" in result.stderr
    assert "database" not in result.stderr.split("keyward: port")[1]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("port", ["99999", "0", "eighty"])
def test_a_port_that_is_no_port_is_a_usage_error(port: str, tmp_path: Path) -> None:
    require_sqlite_pass()
    result = serve("--port", port, workdir=tmp_path)
    assert result.returncode == 2
    assert "usage: server.py serve" in result.stderr
    assert "is not a port number (1 to 65535)" in result.stderr
    assert "Traceback" not in result.stderr
