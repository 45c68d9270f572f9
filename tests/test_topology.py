"""docker-compose.yml's topology without Docker: two API processes (`serve --no-scheduler`) and one
worker on one PostgreSQL database. Whatever one API does, the other sees within milliseconds (its
verification cache hears every change; see tests/test_key_cache_processes.py for the bound), and
so do both of the worker's purge."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.harness import CREATE_API_KEY, ON_POSTGRES, PASSWORD, SIGN_UP
from tests.postgres_server import free_port

pytestmark = pytest.mark.skipif(not ON_POSTGRES, reason="the topology runs on PostgreSQL")

ROOT = Path(__file__).resolve().parent.parent
START_SECONDS = 30
PURGE_SECONDS = 20
# tests/test_key_cache_processes.py holds the bound; here it only needs to hold on a busy machine.
PROPAGATION_SECONDS = 0.05 * max(1.0, os.getloadavg()[0] / (os.cpu_count() or 1))
ROLL = """
mutation Roll($input: RollApiKeyInput!) {
  rollApiKey(input: $input) { __typename ... on ApiKeyRolled { token } }
}
"""
DELETE = "mutation Del($input: DeleteApiKeyInput!) { deleteApiKey(input: $input) { __typename } }"
KEY_IDS = "query Keys($id: ID) { organization(id: $id) { apiKeys { edges { node { id } } } } }"


class Process:
    def __init__(self, name: str, args: list[str], env: dict[str, str], logs: Path) -> None:
        self.name, self.log = name, logs / f"{name}.log"
        with self.log.open("wb") as out:
            self.popen = subprocess.Popen(
                [sys.executable, "server.py", *args], cwd=ROOT, env=env, stdout=out, stderr=out
            )

    def stop(self) -> None:
        self.popen.terminate()
        try:
            self.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


@contextmanager
def api_processes(
    database_url: str, logs: Path, *, worker: bool = False, **settings: str
) -> Iterator[list[str]]:
    """Two `server.py serve` processes on `database_url` (and a worker, when asked), with
    `settings` in their environment: yields the two APIs' base URLs; prints every process's
    output when done."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "PASSWORD_TIME_COST": "1",
        "PASSWORD_MEMORY_KIB": "1024",
        "DB_POOL_SIZE": "4",
        **settings,
    }
    ports = [free_port(), free_port()]
    processes = [
        Process(f"api{n}", ["serve", "--no-scheduler", "--port", str(port)], env, logs)
        for n, port in enumerate(ports)
    ]
    if worker:
        processes.append(Process("worker", ["worker"], env, logs))
    try:
        yield [f"http://127.0.0.1:{port}" for port in ports]
    finally:
        for process in processes:
            process.stop()
        for process in processes:
            print(f"--- {process.name} (exit {process.popen.returncode})\n{process.output()}")


@pytest.fixture
def topology(postgres_url: str, tmp_path: Path) -> Iterator[list[str]]:
    """Two API base URLs, and a worker purging expired keys every second."""
    settings = {"JOBS_INTERVAL_SECONDS": "1", "EXPIRED_KEY_RETENTION_SECONDS": "0"}
    with api_processes(postgres_url, tmp_path, worker=True, **settings) as urls:
        yield urls


class Client:
    def __init__(self, session: aiohttp.ClientSession, base: str) -> None:
        self.session, self.base = session, base

    async def ready(self) -> None:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            try:
                async with self.session.get(f"{self.base}/readyz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.2)
        raise AssertionError(f"{self.base} did not get ready in {START_SECONDS} s")

    async def query(self, document: str, variables: dict[str, Any], token: str = "") -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        payload = {"query": document, "variables": variables}
        async with self.session.post(f"{self.base}/graphql", json=payload, headers=headers) as r:
            body = await r.json()
        assert r.status == 200 and "errors" not in body, body
        return next(iter(body["data"].values()))

    async def verify(self, token: str) -> str:
        async with self.session.post(f"{self.base}/v1/keys/verify", json={"key": token}) as r:
            assert r.status == 200
            return str((await r.json())["code"])

    async def key_ids(self, token: str, organization_id: str) -> set[str]:
        organization = await self.query(KEY_IDS, {"id": organization_id}, token)
        return {edge["node"]["id"] for edge in organization["apiKeys"]["edges"]}


@asynccontextmanager
async def ready_clients(urls: list[str]) -> AsyncIterator[tuple[Client, Client]]:
    """Clients of the two APIs at `urls`, once both answer /readyz."""
    async with aiohttp.ClientSession() as session:
        first, second = Client(session, urls[0]), Client(session, urls[1])
        await asyncio.gather(first.ready(), second.ready())
        yield first, second


@pytest.fixture
async def clients(topology: list[str]) -> AsyncIterator[tuple[Client, Client]]:
    async with ready_clients(topology) as pair:
        yield pair


async def refused_within(client: Client, token: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while (code := await client.verify(token)) != "NOT_FOUND":
        assert code in ("VALID", "EXPIRED")
        assert time.monotonic() < deadline, "the change did not reach the other API in time"
    assert await client.verify(token) == "NOT_FOUND"


async def test_two_apis_and_a_worker_share_one_truth(clients: tuple[Client, Client]) -> None:
    one, two = clients
    # given: an account made through the first API
    signed_up = await one.query(
        SIGN_UP, {"input": {"email": "topology@example.com", "password": PASSWORD}}
    )
    session = signed_up["sessionToken"]
    organization_id = signed_up["user"]["organizations"]["edges"][0]["node"]["id"]

    async def create(through: Client) -> tuple[str, str]:
        variables = {"input": {"organizationId": organization_id, "name": "server"}}
        created = await through.query(CREATE_API_KEY, variables, session)
        return created["apiKey"]["id"], created["token"]

    # a key created through one API verifies on the other at once
    key_id, token = await create(one)
    assert await two.verify(token) == "VALID"

    # a key deleted through one API is refused by the other within the propagation bound
    assert (await one.query(DELETE, {"input": {"id": key_id}}, session))["__typename"] == (
        "ApiKeyDeleted"
    )
    await refused_within(two, token, PROPAGATION_SECONDS)

    # the worker's purge is seen by both: a key rolled with no grace expires at once, and the
    # worker (the APIs run no scheduler) deletes it within a few of its one-second ticks
    old_id, old_token = await create(two)
    rolled = await one.query(ROLL, {"input": {"id": old_id, "gracePeriodSeconds": 0}}, session)
    assert await two.verify(rolled["token"]) == "VALID"
    deadline = time.monotonic() + PURGE_SECONDS
    while (code := await one.verify(old_token)) != "NOT_FOUND":
        assert code == "EXPIRED"
        assert time.monotonic() < deadline, "the worker did not purge the expired key"
        await asyncio.sleep(0.2)
    await refused_within(two, old_token, PROPAGATION_SECONDS)
    for api in (one, two):
        assert old_id not in await api.key_ids(session, organization_id)
    assert await one.verify(rolled["token"]) == "VALID"
