"""Fuzzing with schemathesis against a real server process: operations generated from the
schema, sent as a signed-in user and as a secret key. No response may be a 5xx or carry an
"Unexpected error.", and the server's log may hold no secret.

`FUZZ_OPERATIONS` (default 2,000) bounds the run: ~1 minute on one core of a CI machine. It
runs on the SQLite pass only (the PostgreSQL pass runs the same code paths through the rest of
the suite).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.graphql import nodes

from models.tokens import TOKEN_IN_TEXT
from tests.harness import ON_POSTGRES, PASSWORD

ROOT = Path(__file__).resolve().parent.parent
OPERATIONS = int(os.environ.get("FUZZ_OPERATIONS", "2000"))
SIGN_UP = """
mutation SignUp($input: SignUpInput!) {
  signUp(input: $input) {
    ... on SignedIn { sessionToken user { organizations { edges { node { id } } } } }
  }
}
"""
CREATE_KEY = """
mutation CreateKey($input: CreateApiKeyInput!) {
  createApiKey(input: $input) { ... on ApiKeyCreated { token } }
}
"""

pytestmark = pytest.mark.skipif(ON_POSTGRES, reason="fuzzed on the SQLite pass only")

schemathesis.graphql.scalar(
    "DateTime",
    st.datetimes(timezones=st.just(UTC)).map(lambda when: nodes.String(when.isoformat())),
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    url: str
    log: Path

    def post(self, document: str, variables: dict[str, Any], token: str | None = None) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = requests.post(
            f"{self.url}/graphql",
            json={"query": document, "variables": variables},
            headers=headers,
            timeout=30,
        )
        response.raise_for_status()
        return response.json()["data"]

    def session(self) -> tuple[str, str]:
        email = f"fuzz-{uuid.uuid4().hex[:10]}@example.com"
        data = self.post(SIGN_UP, {"input": {"email": email, "password": PASSWORD}})
        result = data["signUp"]
        return result["sessionToken"], result["user"]["organizations"]["edges"][0]["node"]["id"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("fuzz")
    port = _free_port()
    log = directory / "server.log"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite://{directory / 'keyward.sqlite3'}",
        "PASSWORD_TIME_COST": "1",
        "PASSWORD_MEMORY_KIB": "1024",
    }
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "server.py", "serve", "--port", str(port), "--no-scheduler"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the server did not start:\n{log.read_text()}")
            time.sleep(0.2)
        yield Server(url=url, log=log)
    finally:
        process.terminate()
        process.wait(timeout=30)


@dataclass
class Tally:
    statuses: Counter[int] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.statuses.values())


def _fuzz(server: Server, principal: str, target: int, tally: Tally) -> None:
    """At least `target` operations as `principal`, spread evenly over the schema's fields
    (rounds repeat because hypothesis stops early on fields with few distinct queries)."""
    schema = schemathesis.graphql.from_url(f"{server.url}/graphql")
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    token, organization_id = server.session()
    if principal == "secret key":
        data = server.post(
            CREATE_KEY, {"input": {"organizationId": organization_id, "name": "fuzz"}}, token
        )
        token = data["createApiKey"]["token"]
    credential = {"token": token}
    start = tally.total
    while (remaining := target - (tally.total - start)) > 0:
        per_operation = -(-remaining // len(operations))
        for operation in operations:
            _fuzz_operation(server, operation, principal, per_operation, credential, tally)


def _fuzz_operation(
    server: Server,
    operation: Any,
    principal: str,
    examples: int,
    credential: dict[str, str],
    tally: Tally,
) -> None:
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def exercise(case: Any) -> None:
        response = case.call(headers={"Authorization": f"Bearer {credential['token']}"})
        tally.statuses[response.status_code] += 1
        text = response.text
        if response.status_code >= 500 or "Unexpected error" in text:
            tally.problems.append(f"{response.status_code} {case.body!r}: {text[:500]}")
        if response.status_code == 401 and principal == "session":
            credential["token"] = server.session()[0]  # the fuzzer signed itself out

    exercise()


def test_fuzzing_finds_no_server_error(server: Server) -> None:
    # given
    tally = Tally()
    started = time.monotonic()
    # when
    for principal in ("session", "secret key"):
        _fuzz(server, principal, OPERATIONS // 2, tally)
    elapsed = time.monotonic() - started
    # then
    print(f"fuzz: {tally.total} operations in {elapsed:.1f} s, statuses {dict(tally.statuses)}")
    assert tally.problems == []
    assert tally.total >= OPERATIONS, tally.statuses
    log = server.log.read_text()
    assert "Unexpected error" not in log
    assert not TOKEN_IN_TEXT.search(log), re.findall(r".*_[0-9A-Za-z]{20,}.*", log)[:3]
    assert "Bearer " not in log
