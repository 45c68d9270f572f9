"""End to end with the real scheduler at a one-second interval: inside the API process (the
single-machine default), and in a `worker` process beside `serve --no-scheduler`."""

from __future__ import annotations

import asyncio
import dataclasses
import signal
import time
from collections.abc import Iterator
from typing import Any

import pytest

from models.clock import utcnow
from models.passwords import Passwords
from server import create_app
from settings import Settings
from tests.harness import ON_POSTGRES, Api, postgres_empty
from tests.jobs_support import server_env, worker_start

GRACE_SECONDS = 1
# The jobs tick every second; a loaded machine may miss several ticks before this fails.
DEADLINE_SECONDS = 30.0

ROLL = """
mutation Roll($input: RollApiKeyInput!) {
  rollApiKey(input: $input) {
    __typename
    ... on ApiKeyRolled { token apiKey { id } rolledApiKey { id status } }
  }
}
"""
KEYS = """
query Keys($id: ID!) {
  organization(id: $id) { apiKeys(first: 100) { edges { node { id status } } } }
}
"""


@pytest.fixture(params=["embedded", "worker"])
def scheduler_in(request: pytest.FixtureRequest, database_url: str) -> Iterator[str]:
    if request.param == "embedded":
        yield request.param
        return
    worker, _ = worker_start(server_env(database_url, JOBS_INTERVAL_SECONDS="1"))
    try:
        yield request.param
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.communicate(timeout=10)


async def test_a_rolled_key_is_refused_after_its_grace_then_purged(
    settings: Settings, passwords: Passwords, aiohttp_client: Any, scheduler_in: str
) -> None:
    # given the API, its jobs ticking every second beside or inside it, on the real clock
    app = create_app(
        dataclasses.replace(settings, jobs_interval_seconds=1),
        clock=utcnow,
        passwords=passwords,
        scheduler=scheduler_in == "embedded",
    )
    api = Api(await aiohttp_client(app))
    if ON_POSTGRES:
        await postgres_empty(app)
    account = await api.sign_up()
    kept, _ = await api.create_key(account, name="kept")
    rolled, token = await api.create_key(account, name="rolled")
    # when one key is rolled with a one-second grace
    before_roll = time.time()
    result = (
        await api.query(
            ROLL,
            {"input": {"id": rolled["id"], "gracePeriodSeconds": GRACE_SECONDS}},
            token=account.session,
        )
    )["rollApiKey"]
    after_roll = time.time()
    assert result["__typename"] == "ApiKeyRolled"
    # then the old token works until its grace ends and is refused from then on: EXPIRED, or
    # NOT_FOUND once the purge ran. (On the real clock, so judged by when each answer was asked
    # and received; refusal before any job is proven with the injected clock elsewhere.)
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        asked = time.time()
        answer = await api.verify(token)
        if not answer["valid"]:
            assert time.time() >= before_roll + GRACE_SECONDS, "refused inside its grace"
            assert answer["code"] in ("EXPIRED", "NOT_FOUND"), answer
            break
        assert asked < after_roll + GRACE_SECONDS, "still valid after its grace"
        assert time.monotonic() < deadline
        await asyncio.sleep(0.1)
    # and the jobs remove it from apiKeys, while its replacement and the others stay
    while True:
        data = await api.query(KEYS, {"id": account.organization_id}, token=account.session)
        ids = {edge["node"]["id"] for edge in data["organization"]["apiKeys"]["edges"]}
        if rolled["id"] not in ids:
            break
        assert time.monotonic() < deadline, f"not purged within {DEADLINE_SECONDS} s"
        await asyncio.sleep(0.2)
    assert ids == {account.default_key["id"], kept["id"], result["apiKey"]["id"]}
    assert (await api.verify(result["token"]))["valid"] is True
