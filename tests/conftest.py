"""Test harness: a real database per test, real HTTP through aiohttp, time through a clock.

Without TEST_DATABASE_URL each test gets a fresh SQLite file (the app migrates it at start, as the
SQLite default does). With TEST_DATABASE_URL=postgres://… the pytest run gets a PostgreSQL schema of
its own in that database (so concurrent runs never meet), built once by the migrations and dropped
at the end; every test's tables are emptied before the test.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from models.database import database_close, database_open
from models.passwords import Passwords
from server import create_app
from settings import Settings
from tests.harness import (
    FAST_PASSWORDS,
    ON_POSTGRES,
    TEST_DATABASE_URL,
    Api,
    Clock,
    KeywardTestServer,
    postgres_empty,
    postgres_execute,
    run_apart,
    with_search_path,
)
from web.state import DATABASE


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


async def _drop_abandoned_schemas() -> None:
    """Schemas left by pytest runs that were killed before their teardown."""
    rows = await postgres_execute(
        TEST_DATABASE_URL, "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'pytest\\_%'"
    )
    for name in (row["nspname"] for row in rows):
        pid = name.split("_")[1]
        if pid.isdigit() and not _pid_alive(int(pid)):
            await postgres_execute(TEST_DATABASE_URL, f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """This pytest run's own PostgreSQL schema, built by the migrations."""
    if not ON_POSTGRES:
        pytest.skip("needs TEST_DATABASE_URL=postgres://…")
    schema = f"pytest_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    url = with_search_path(TEST_DATABASE_URL, schema)

    async def build() -> None:
        await _drop_abandoned_schemas()
        await postgres_execute(TEST_DATABASE_URL, f'CREATE SCHEMA "{schema}"')
        await database_close(await database_open(url, create_schema=True))

    run_apart(build())
    try:
        yield url
    finally:
        run_apart(postgres_execute(TEST_DATABASE_URL, f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture
def new_database(tmp_path: Path) -> Iterator[Callable[[], str]]:
    """Makes empty databases, for tests of how the schema gets built: new SQLite files, or new
    PostgreSQL schemas dropped after the test."""
    schemas: list[str] = []

    def make() -> str:
        name = f"pytest_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        if not ON_POSTGRES:
            return f"sqlite://{tmp_path / name}.sqlite3"
        run_apart(postgres_execute(TEST_DATABASE_URL, f'CREATE SCHEMA "{name}"'))
        schemas.append(name)
        return with_search_path(TEST_DATABASE_URL, name)

    yield make
    for name in schemas:
        run_apart(postgres_execute(TEST_DATABASE_URL, f'DROP SCHEMA "{name}" CASCADE'))


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if ON_POSTGRES:
        return request.getfixturevalue("postgres_url")  # type: ignore[no-any-return]
    return f"sqlite://{tmp_path / 'keyward.sqlite3'}"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    # GitHub's secret-scanning keys from a file with none: no test reaches for the network.
    keys = tmp_path / "github-keys.json"
    keys.write_text('{"public_keys": []}')
    return Settings(
        database_url=database_url,
        github_secret_scanning_keys_file=str(keys),
        **FAST_PASSWORDS,  # type: ignore[arg-type]
    )


@pytest.fixture
def passwords(settings: Settings) -> Passwords:
    return Passwords(time_cost=settings.password_time_cost, memory_kib=settings.password_memory_kib)


@pytest.fixture
def app(settings: Settings, clock: Clock, passwords: Passwords) -> web.Application:
    return create_app(settings, clock=clock, passwords=passwords)


@pytest.fixture
async def client(app: web.Application, aiohttp_client: Any) -> AsyncIterator[TestClient[Any, Any]]:
    test_client = await aiohttp_client(KeywardTestServer(app))
    if ON_POSTGRES:
        await postgres_empty(app)
    yield test_client


@pytest.fixture
def api(client: TestClient[Any, Any]) -> Api:
    return Api(client)


@pytest.fixture
def db(app: web.Application, client: TestClient[Any, Any]) -> Iterator[None]:
    """Enter the app's database context, for tests that call domain functions directly."""
    with app[DATABASE]:
        yield
