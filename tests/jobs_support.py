"""Helpers for the scheduled-jobs tests: rows made directly (any timestamps, no tokens), and a
second database connection, as a second worker would hold one."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from tortoise.context import TortoiseContext

from models.entities import ApiKey, ApiKeyType, Organization, Session, User
from server import create_app
from settings import Settings
from tests.harness import ON_POSTGRES, postgres_empty
from web.state import DATABASE


async def organization_make(*, now: datetime) -> Organization:
    return await Organization.create(name="Acme", created_at=now)


def key_row(
    organization: Organization,
    *,
    created_at: datetime,
    expires_at: datetime | None,
    rolled_at: datetime | None = None,
    expired_at: datetime | None = None,
) -> ApiKey:
    """An unsaved key row; its digest is of a random value that is no token at all."""
    return ApiKey(
        id=uuid.uuid4(),
        organization_id=organization.id,
        name="key",
        type=ApiKeyType.SECRET,
        digest=hashlib.sha256(uuid.uuid4().bytes).hexdigest(),
        start="sk_test",
        created_at=created_at,
        expires_at=expires_at,
        rolled_at=rolled_at,
        expired_at=expired_at,
    )


async def keys_make(organization: Organization, count: int, **fields: Any) -> list[ApiKey]:
    keys = [key_row(organization, **fields) for _ in range(count)]
    await ApiKey.bulk_create(keys)
    return keys


async def sessions_make(*, now: datetime, expires_at: datetime, count: int) -> None:
    user = await User.create(
        email=f"{uuid.uuid4().hex}@example.com",
        email_key=f"{uuid.uuid4().hex}@example.com",
        password_hash="-",
        created_at=now,
    )
    await Session.bulk_create(
        Session(
            user_id=user.id,
            digest=hashlib.sha256(uuid.uuid4().bytes).hexdigest(),
            created_at=now,
            expires_at=expires_at,
        )
        for _ in range(count)
    )


async def second_database(settings: Settings, aiohttp_client: Any) -> TortoiseContext:
    """Another app on the same database: its own tortoise context and connections."""
    app: web.Application = create_app(settings)
    await aiohttp_client(app)
    return app[DATABASE]


async def database_emptied(settings: Settings, aiohttp_client: Any) -> TortoiseContext:
    """The test's own connection to the database, the schema built (SQLite) or every table
    emptied (PostgreSQL): for tests whose subject runs in other processes."""
    app: web.Application = create_app(settings)
    await aiohttp_client(app)
    if ON_POSTGRES:
        await postgres_empty(app)
    return app[DATABASE]


ROOT = Path(__file__).resolve().parent.parent


def server_env(database_url: str, **extra: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": database_url, "PYTHONUNBUFFERED": "1", **extra}


def worker_start(env: dict[str, str]) -> tuple[subprocess.Popen[str], list[str]]:
    """A worker, once it says it has started, and the log lines it printed so far."""
    process = subprocess.Popen(
        [sys.executable, "server.py", "worker"],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    assert process.stderr is not None
    lines: list[str] = []
    for line in process.stderr:
        lines.append(line)
        if "worker started" in line:
            return process, lines
    raise AssertionError(f"the worker never started: {''.join(lines)}")
