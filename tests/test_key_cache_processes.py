"""The verification cache across real API processes on one database: a key deleted through one
process is refused by the other within the bound, every time; and a process that cannot hear
invalidations does not answer from its cache."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest

from tests.harness import CREATE_API_KEY, ON_POSTGRES, PASSWORD, SIGN_UP
from tests.postgres_server import free_port
from tests.support import DELETE_API_KEY

ROOT = Path(__file__).resolve().parent.parent
START_SECONDS = 30
TRIALS = 200
# From the deleting process's answer to the other process's last acceptance: the bound.
# On a machine shared with other work every hop (the database's backend sending the
# notification, the process reading it, the request itself) can wait for a core. The test
# measures that wait as the p99 round trip of the very verifications it sends (each a cache hit
# or a refusal, ~1 ms on an idle machine) and holds the 99th percentile of the 200 windows to
# the bound plus that: an idle machine to the bound itself, a busy one to the bound plus its own
# measured latency. The one worst window may be a single stall of the database's notifying
# backend (measured: 105 ms at load 5 while the other process answered every 0.8 ms); it is held
# to `WORST_SECONDS`, far under the 2 s keepalive and the 60 s age bound, so a notification that
# was lost, not late, still fails the test.
SPEC_BOUND_SECONDS = 0.050 if ON_POSTGRES else 0.250
WORST_SECONDS = 1.0
LOOP_LIMIT = 10_000  # verifications per trial, far past the bound: a loop never runs forever


class Api:
    def __init__(self, database_url: str, logs: Path, name: str, workers: int = 1) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = logs / f"{name}.log"
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "PASSWORD_TIME_COST": "1",
            "PASSWORD_MEMORY_KIB": "1024",
            "DB_POOL_SIZE": "4",
        }
        with self.log.open("wb") as out:
            self.popen = subprocess.Popen(
                [
                    sys.executable,
                    "server.py",
                    "serve",
                    "--no-scheduler",
                    "--port",
                    str(self.port),
                    "--workers",
                    str(workers),
                ],  # fmt: skip
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=out,
            )

    def stop(self) -> None:
        self.popen.terminate()
        try:
            self.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
        print(f"--- {self.log.name}\n{self.log.read_text(errors='replace')[-2000:]}")


class Client:
    def __init__(self, session: aiohttp.ClientSession, api: Api) -> None:
        self.session, self.api = session, api

    async def cache(self) -> dict[str, Any]:
        async with self.session.get(f"{self.api.base}/healthz") as response:
            return dict(await response.json())

    async def listening(self) -> None:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            try:
                if (await self.cache())["keyCache"] == "listening":
                    return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.1)
        raise AssertionError(f"{self.api.base} did not start listening in {START_SECONDS} s")

    async def query(self, document: str, variables: dict[str, Any], token: str) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        payload = {"query": document, "variables": variables}
        async with self.session.post(
            f"{self.api.base}/graphql", json=payload, headers=headers
        ) as response:
            body = await response.json()
        assert response.status == 200 and "errors" not in body, body
        return next(iter(body["data"].values()))

    async def verify(self, token: str) -> str:
        async with self.session.post(
            f"{self.api.base}/v1/keys/verify", json={"key": token}
        ) as response:
            assert response.status == 200
            return str((await response.json())["code"])


@pytest.fixture
def apis(database_url: str, tmp_path: Path) -> Iterator[tuple[Api, Api]]:
    first = Api(database_url, tmp_path, "a")
    second: Api | None = None
    try:
        _await_ready(first)  # SQLite: the first migrates the file before the second opens it
        second = Api(database_url, tmp_path, "b")
        yield first, second
    finally:
        first.stop()
        if second is not None:
            second.stop()


def _await_ready(api: Api) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        assert api.popen.poll() is None, api.log.read_text(errors="replace")
        try:
            with urllib.request.urlopen(f"{api.base}/readyz", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{api.base} did not get ready")


@pytest.fixture
async def clients(apis: tuple[Api, Api]) -> AsyncIterator[tuple[Client, Client, str, str]]:
    async with aiohttp.ClientSession() as session:
        one, two = Client(session, apis[0]), Client(session, apis[1])
        await asyncio.gather(one.listening(), two.listening())
        email = f"cache-{os.getpid()}-{time.monotonic_ns()}@example.com"
        signed_up = await one.query(SIGN_UP, {"input": {"email": email, "password": PASSWORD}}, "")
        organization_id = signed_up["user"]["organizations"]["edges"][0]["node"]["id"]
        yield one, two, signed_up["sessionToken"], organization_id


async def _create(client: Client, session: str, organization_id: str) -> tuple[str, str]:
    variables = {"input": {"organizationId": organization_id, "name": "cached"}}
    created = await client.query(CREATE_API_KEY, variables, session)
    return created["apiKey"]["id"], created["token"]


async def test_a_key_deleted_through_one_process_is_refused_by_the_other_within_the_bound(
    clients: tuple[Client, Client, str, str],
) -> None:
    """The bound is on how long the second process keeps accepting the key after the first has
    answered (the arrival of its last VALID), not on the refusing request's own round trip:
    that is the machine's request latency, the same with the cache off."""
    one, two, session, organization_id = clients
    windows: list[tuple[float, int, float]] = []  # (accepted for, stale answers, refusal took)
    round_trips: list[float] = []
    for _ in range(TRIALS):
        # given: a key that the second process has verified, so holds in its cache
        key_id, token = await _create(one, session, organization_id)
        assert await two.verify(token) == "VALID"
        assert await two.verify(token) == "VALID"
        # when: the first process deletes it
        deleted = await one.query(DELETE_API_KEY, {"input": {"id": key_id}}, session)
        answered = last_accepted = time.monotonic()
        assert deleted["__typename"] == "ApiKeyDeleted"
        # then: the second stops accepting it within the bound, and never accepts it again
        stale = 0
        for _ in range(LOOP_LIMIT):
            asked = time.monotonic()
            code = await two.verify(token)
            round_trips.append(time.monotonic() - asked)
            if code != "VALID":
                break
            stale, last_accepted = stale + 1, time.monotonic()
        assert code == "NOT_FOUND"
        windows.append((last_accepted - answered, stale, time.monotonic() - asked))
        assert await two.verify(token) == "NOT_FOUND"
    windows.sort()
    round_trips.sort()
    latency = round_trips[int(0.99 * (len(round_trips) - 1))]
    bound = SPEC_BOUND_SECONDS + latency
    print(
        f"accepted after the delete: p50 {windows[len(windows) // 2][0] * 1e3:.1f} ms,"
        f" p99 {windows[int(0.99 * (len(windows) - 1))][0] * 1e3:.1f} ms,"
        f" max {windows[-1][0] * 1e3:.1f} ms; stale answers {sum(w[1] for w in windows)};"
        f" slowest refusal {max(w[2] for w in windows) * 1e3:.1f} ms;"
        f" bound {SPEC_BOUND_SECONDS * 1e3:.0f} ms + this run's p99 round trip"
        f" {latency * 1e3:.1f} ms; load average {os.getloadavg()[0]:.1f}"
    )
    assert windows[int(0.99 * (len(windows) - 1))][0] <= bound, windows[-5:]
    assert windows[-1][0] <= WORST_SECONDS, windows[-5:]
    stats = await two.cache()
    assert stats["keyCacheHits"] >= TRIALS  # the second verification of each key
    assert stats["revocationsHeard"] >= TRIALS


@pytest.mark.skipif(not ON_POSTGRES, reason="the LISTEN connection exists on PostgreSQL")
async def test_a_process_that_cannot_hear_invalidations_answers_from_the_database(
    clients: tuple[Client, Client, str, str], postgres_url: str, apis: tuple[Api, Api]
) -> None:
    one, two, session, organization_id = clients
    database = await asyncpg.connect(postgres_url)
    try:
        # given: a key held in the second process's cache, then deleted behind its back
        key_id, token = await _create(one, session, organization_id)
        assert await two.verify(token) == "VALID"
        await database.execute("DELETE FROM api_key WHERE id = $1::uuid", key_id)
        assert await two.verify(token) == "VALID"  # from memory: it was told nothing
        bypassed = (await two.cache())["keyCacheBypasses"]
        # when: its LISTEN connection, and only that one, is killed
        killed = await database.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE application_name = $1",
            f"keyward-key-cache-{apis[1].popen.pid}",
        )
        assert killed == 1
        # then: it stops answering from memory at once, and answers correctly
        for _ in range(LOOP_LIMIT):
            if await two.verify(token) == "NOT_FOUND":
                break
        assert await two.verify(token) == "NOT_FOUND"
        assert (await two.cache())["keyCacheBypasses"] > bypassed
        # and once it listens again, it uses its cache again
        await two.listening()
        other_id, other_token = await _create(one, session, organization_id)
        assert await two.verify(other_token) == "VALID"
        hits = (await two.cache())["keyCacheHits"]
        await database.execute("DELETE FROM api_key WHERE id = $1::uuid", other_id)
        assert await two.verify(other_token) == "VALID"
        assert (await two.cache())["keyCacheHits"] == hits + 1
        assert await one.verify(token) == "NOT_FOUND"
    finally:
        await database.close()


async def test_serve_workers_share_one_port_and_every_worker_hears_a_delete(
    database_url: str, tmp_path: Path
) -> None:
    """`serve --workers 2`: two processes on one port (the kernel spreads new connections), each
    with its own cache, both refusing a key deleted through either; SIGTERM stops them all."""
    api = Api(database_url, tmp_path, "workers", workers=2)
    try:
        _await_ready(api)
        async with aiohttp.ClientSession() as session:
            client = Client(session, api)
            await client.listening()
            email = f"workers-{os.getpid()}-{time.monotonic_ns()}@example.com"
            signed_up = await client.query(
                SIGN_UP, {"input": {"email": email, "password": PASSWORD}}, ""
            )
            session_token = signed_up["sessionToken"]
            organization_id = signed_up["user"]["organizations"]["edges"][0]["node"]["id"]
            key_id, token = await _create(client, session_token, organization_id)
            # given: the key verified over many fresh connections, so both workers hold it
            for _ in range(40):
                async with aiohttp.ClientSession() as fresh:
                    assert await Client(fresh, api).verify(token) == "VALID"
            # when: it is deleted through one of them
            deleted = await client.query(DELETE_API_KEY, {"input": {"id": key_id}}, session_token)
            assert deleted["__typename"] == "ApiKeyDeleted"
            await asyncio.sleep(SPEC_BOUND_SECONDS)
            # then: every worker refuses it
            for _ in range(40):
                async with aiohttp.ClientSession() as fresh:
                    assert await Client(fresh, api).verify(token) == "NOT_FOUND"
    finally:
        api.stop()
    # and the parent's SIGTERM reached both workers: nothing listens on the port any more
    assert api.popen.returncode == 0
    with pytest.raises(OSError):
        urllib.request.urlopen(f"{api.base}/healthz", timeout=1)
