"""Concurrent changes to one organization from two API processes on PostgreSQL leave one unbroken
audit chain: the advisory lock serializes the appends, so no two events share a place."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from models.audit_entities import AuditEvent
from models.audit_log import audit_chain_verify
from models.database import database_close, database_entered, database_open
from tests.harness import CREATE_API_KEY, ON_POSTGRES, PASSWORD, SIGN_UP
from tests.support import DELETE_API_KEY, ROLL_API_KEY
from tests.test_topology import Client, api_processes, ready_clients

pytestmark = pytest.mark.skipif(not ON_POSTGRES, reason="two API processes on PostgreSQL")

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = 3  # each round: 8 operations at once, split across the two processes


@pytest.fixture
def two_apis(postgres_url: str, tmp_path: Path) -> Iterator[list[str]]:
    with api_processes(postgres_url, tmp_path) as urls:
        yield urls


@pytest.fixture
async def clients(two_apis: list[str]) -> AsyncIterator[tuple[Client, Client]]:
    async with ready_clients(two_apis) as pair:
        yield pair


async def test_eight_concurrent_key_operations_from_two_processes_leave_a_whole_chain(
    clients: tuple[Client, Client], postgres_url: str
) -> None:
    one, two = clients
    signed_up = await one.query(
        SIGN_UP, {"input": {"email": f"{uuid.uuid4().hex}@example.com", "password": PASSWORD}}
    )
    session = signed_up["sessionToken"]
    organization_id = signed_up["user"]["organizations"]["edges"][0]["node"]["id"]

    async def create(through: Client, n: int) -> str:
        variables = {"input": {"organizationId": organization_id, "name": f"key {n}"}}
        created = await through.query(CREATE_API_KEY, variables, session)
        assert created["__typename"] == "ApiKeyCreated", created
        return str(created["apiKey"]["id"])

    async def roll(through: Client, key_id: str) -> None:
        rolled = await through.query(ROLL_API_KEY, {"input": {"id": key_id}}, session)
        assert rolled["__typename"] == "ApiKeyRolled", rolled

    async def delete(through: Client, key_id: str) -> None:
        deleted = await through.query(DELETE_API_KEY, {"input": {"id": key_id}}, session)
        assert deleted["__typename"] == "ApiKeyDeleted", deleted

    operations = 0
    for round_ in range(ROUNDS):
        # 8 creates at once, 4 through each process
        ids = await asyncio.gather(
            *(create(one if n % 2 else two, round_ * 8 + n) for n in range(8))
        )
        # then 4 rolls and 4 deletes at once, interleaved across the processes
        await asyncio.gather(
            *(roll(one if n % 2 else two, key_id) for n, key_id in enumerate(ids[:4])),
            *(delete(two if n % 2 else one, key_id) for n, key_id in enumerate(ids[4:])),
        )
        operations += 16

    ctx = await database_open(postgres_url)
    try:
        with database_entered(ctx):
            check = await audit_chain_verify(organization_id=uuid.UUID(organization_id))
            sequences = await AuditEvent.filter(organization_id=organization_id).values_list(
                "sequence", flat=True
            )
    finally:
        await database_close(ctx)
    assert check.ok, check
    assert check.checked == operations + 2  # the organization and its Default API Key
    assert sorted(int(str(n)) for n in sequences) == list(range(1, operations + 3))
    verdict = subprocess.run(
        [sys.executable, "server.py", "audit", "verify", "--organization", organization_id],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": postgres_url},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert verdict.returncode == 0, verdict.stdout + verdict.stderr
