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
    result = (
        await api.query(
            ROLL, {"input": {"id": rolled["id"], "gracePeriodSeconds": 1}}, token=account.session
        )
    )["rollApiKey"]
    assert result["__typename"] == "ApiKeyRolled"
    assert (await api.verify(token))["valid"] is True
    # then it is refused once the grace has passed: EXPIRED, or NOT_FOUND when the one-second
    # purge already ran (refusal before any job is proven with the injected clock elsewhere)
    await asyncio.sleep(1.1)
    refused = await api.verify(token)
    assert refused["valid"] is False and refused["code"] in ("EXPIRED", "NOT_FOUND"), refused
    # and gone from apiKeys a few seconds later, while its replacement and the others stay
    deadline = time.monotonic() + 5
    while True:
        data = await api.query(KEYS, {"id": account.organization_id}, token=account.session)
        ids = {edge["node"]["id"] for edge in data["organization"]["apiKeys"]["edges"]}
        if rolled["id"] not in ids or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    assert ids == {account.default_key["id"], kept["id"], result["apiKey"]["id"]}
    assert (await api.verify(result["token"]))["valid"] is True
