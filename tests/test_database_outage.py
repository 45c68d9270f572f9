"""While PostgreSQL is away the API answers clearly (503, SERVICE_UNAVAILABLE, not ready) and
stays alive; when it is back the API recovers by itself, without a restart.

Against a PostgreSQL server of the test's own (initdb into a temporary folder, its own port),
never the shared one. Runs in the PostgreSQL pass: tortoise breaks when one process uses both
SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest

from models.database import database_close, database_open
from server import create_app
from settings import Settings
from tests.harness import FAST_PASSWORDS, ON_POSTGRES, PASSWORD, SIGN_IN, Api, Clock
from tests.postgres_server import PostgresServer, postgres_bin

pytestmark = pytest.mark.skipif(
    not ON_POSTGRES or postgres_bin() is None,
    reason="needs the PostgreSQL pass and PostgreSQL's binaries",
)

ORGANIZATION = "query Organization { organization { id name } }"
RECOVERY_SECONDS = 15


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    bin_dir = postgres_bin()
    assert bin_dir is not None
    server = PostgresServer(bin_dir)
    server.start()
    try:
        yield server
    finally:
        server.remove()


async def _verify(api: Api, token: str) -> tuple[int, str, dict[str, Any]]:
    response = await api.client.post("/v1/keys/verify", json={"key": token})
    return response.status, response.content_type, await response.json(content_type=None)


async def test_postgres_away_is_503_not_ready_and_recovers_without_restart(
    postgres: PostgresServer, aiohttp_client: Any, clock: Clock
) -> None:
    # given: an API on our own PostgreSQL, with an account and a secret key
    await database_close(await database_open(postgres.url, create_schema=True))
    settings = Settings(database_url=postgres.url, **FAST_PASSWORDS)  # type: ignore[arg-type]
    api = Api(await aiohttp_client(create_app(settings, clock=clock)))
    account = await api.sign_up()
    _, token = await api.create_key(account)
    assert (await api.client.get("/readyz")).status == 200

    # when: PostgreSQL goes away
    await asyncio.to_thread(postgres.stop)

    # then: verification is a 503 problem, GraphQL a SERVICE_UNAVAILABLE error (whether the
    # database fails in the bearer lookup or inside a resolver), not ready, but alive
    status, content_type, problem = await _verify(api, token)
    assert (status, content_type) == (503, "application/problem+json"), problem
    assert problem["status"] == 503 and problem["title"] == "Service Unavailable"
    status, body = await api.raw(ORGANIZATION, token=token)
    assert status == 503
    assert [e["extensions"]["code"] for e in body["errors"]] == ["SERVICE_UNAVAILABLE"]
    status, body = await api.raw(SIGN_IN, {"input": {"email": account.email, "password": "x" * 9}})
    assert status == 200 and body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["SERVICE_UNAVAILABLE"]
    ready = await api.client.get("/readyz")
    assert (ready.status, await ready.json()) == (503, {"status": "unavailable"})
    assert (await api.client.get("/healthz")).status == 200

    # when: PostgreSQL is back
    await asyncio.to_thread(postgres.start)

    # then: the same app answers again (never a 500 on the way)
    deadline = time.monotonic() + RECOVERY_SECONDS
    while (status := (await _verify(api, token))[0]) != 200 and time.monotonic() < deadline:
        assert status == 503
        await asyncio.sleep(0.1)
    status, _, result = await _verify(api, token)
    assert (status, result["code"]) == (200, "VALID")
    assert (await api.client.get("/readyz")).status == 200
    data = await api.query(ORGANIZATION, token=token)
    assert data["organization"]["id"] == account.organization_id
    assert await api.sign_in(account.email, PASSWORD)
