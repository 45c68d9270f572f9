"""Test harness: a real database per test, real HTTP through aiohttp, time through a clock.

Without TEST_DATABASE_URL each test gets a fresh SQLite file (the app migrates it at start, as the
SQLite default does). With TEST_DATABASE_URL=postgres://… the pytest run gets a PostgreSQL schema of
its own in that database (so concurrent runs never meet), built once by the migrations and dropped
at the end; every test's tables are emptied before the test.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from models.database import database_close, database_open, tortoise_config
from models.passwords import Passwords
from server import DATABASE, create_app
from settings import Settings

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
ON_POSTGRES = TEST_DATABASE_URL.startswith(("postgres://", "postgresql://"))
# argon2 at a test cost: the production cost (~100 ms a hash) would dominate the suite.
FAST_PASSWORDS = {"password_time_cost": 1, "password_memory_kib": 1024}
PASSWORD = "correct horse battery staple"
T = TypeVar("T")


@dataclass
class Clock:
    """A clock the test moves by hand."""

    now: datetime = field(default_factory=lambda: datetime(2030, 1, 1, 12, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def with_search_path(url: str, schema: str) -> str:
    """`url` with its connections' search_path set to `schema` (an asyncpg server setting)."""
    parts = urlsplit(url)
    query = [(name, value) for name, value in parse_qsl(parts.query) if name != "search_path"]
    return urlunsplit(parts._replace(query=urlencode([*query, ("search_path", schema)])))


def run_apart(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run `coroutine` to completion on its own loop in another thread: safe from a sync fixture
    whatever loop pytest-asyncio has set up in this one."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def _postgres_execute(url: str, sql: str) -> list[dict[str, Any]]:
    from tortoise.backends.asyncpg.client import AsyncpgDBClient  # noqa: PLC0415

    config = tortoise_config(url)["connections"]["default"]["credentials"]
    client = AsyncpgDBClient(connection_name="admin", **config)
    await client.create_connection(with_db=True)
    try:
        return await client.execute_query_dict(sql)
    finally:
        await client.close()


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
    rows = await _postgres_execute(
        TEST_DATABASE_URL, "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'pytest\\_%'"
    )
    for name in (row["nspname"] for row in rows):
        pid = name.split("_")[1]
        if pid.isdigit() and not _pid_alive(int(pid)):
            await _postgres_execute(TEST_DATABASE_URL, f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """This pytest run's own PostgreSQL schema, built by the migrations."""
    if not ON_POSTGRES:
        pytest.skip("needs TEST_DATABASE_URL=postgres://…")
    schema = f"pytest_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    url = with_search_path(TEST_DATABASE_URL, schema)

    async def build() -> None:
        await _drop_abandoned_schemas()
        await _postgres_execute(TEST_DATABASE_URL, f'CREATE SCHEMA "{schema}"')
        await database_close(await database_open(url, create_schema=True))

    run_apart(build())
    try:
        yield url
    finally:
        run_apart(_postgres_execute(TEST_DATABASE_URL, f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture
def new_database(tmp_path: Path) -> Iterator[Callable[[], str]]:
    """Makes empty databases, for tests of how the schema gets built: new SQLite files, or new
    PostgreSQL schemas dropped after the test."""
    schemas: list[str] = []

    def make() -> str:
        name = f"pytest_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        if not ON_POSTGRES:
            return f"sqlite://{tmp_path / name}.sqlite3"
        run_apart(_postgres_execute(TEST_DATABASE_URL, f'CREATE SCHEMA "{name}"'))
        schemas.append(name)
        return with_search_path(TEST_DATABASE_URL, name)

    yield make
    for name in schemas:
        run_apart(_postgres_execute(TEST_DATABASE_URL, f'DROP SCHEMA "{name}" CASCADE'))


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if ON_POSTGRES:
        return request.getfixturevalue("postgres_url")  # type: ignore[no-any-return]
    return f"sqlite://{tmp_path / 'keyward.sqlite3'}"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, **FAST_PASSWORDS)  # type: ignore[arg-type]


@pytest.fixture
def passwords(settings: Settings) -> Passwords:
    return Passwords(time_cost=settings.password_time_cost, memory_kib=settings.password_memory_kib)


async def _empty_postgres(app: web.Application) -> None:
    from tortoise import connections  # noqa: PLC0415

    with app[DATABASE]:
        connection = connections.get("default")
        _, rows = await connection.execute_query(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
            " AND tablename <> 'tortoise_migrations'"
        )
        tables = ", ".join(f'"{row["tablename"]}"' for row in rows)
        await connection.execute_script(f"TRUNCATE {tables} CASCADE")


@pytest.fixture
def app(settings: Settings, clock: Clock, passwords: Passwords) -> web.Application:
    return create_app(settings, clock=clock, passwords=passwords)


class Api:
    """A GraphQL client over real HTTP. `query` fails the test on unexpected top-level errors,
    so that a crash never passes for an expected error."""

    def __init__(self, client: TestClient[Any, Any]) -> None:
        self.client = client

    async def raw(
        self, document: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> tuple[int, dict[str, Any]]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await self.client.post(
            "/graphql", json={"query": document, "variables": variables or {}}, headers=headers
        )
        return response.status, await response.json()

    async def query(
        self, document: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        status, body = await self.raw(document, variables, token)
        assert status == 200, body
        assert "errors" not in body, body["errors"]
        return body["data"]  # type: ignore[no-any-return]

    async def error(
        self, document: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        """The single top-level error the operation must produce."""
        status, body = await self.raw(document, variables, token)
        assert status == 200, body
        assert len(body.get("errors", [])) == 1, body
        return body["errors"][0]  # type: ignore[no-any-return]

    async def verify(self, key: str) -> dict[str, Any]:
        response = await self.client.post("/v1/keys/verify", json={"key": key})
        assert response.status == 200
        return await response.json()  # type: ignore[no-any-return]

    # -- the seed's everyday steps, for tests whose subject is something else --

    async def sign_up(self, email: str | None = None, **extra: Any) -> Account:
        email = email or f"{uuid.uuid4().hex[:12]}@example.com"
        data = await self.query(SIGN_UP, {"input": {"email": email, "password": PASSWORD, **extra}})
        result = data["signUp"]
        assert result["__typename"] == "SignedIn", result
        organization = result["user"]["organizations"][0]
        default_key = organization["apiKeys"]["edges"][0]["node"]
        return Account(
            email=email,
            session=result["sessionToken"],
            user_id=result["user"]["id"],
            organization_id=organization["id"],
            default_key=default_key,
        )

    async def sign_in(self, email: str, password: str = PASSWORD) -> str:
        data = await self.query(SIGN_IN, {"input": {"email": email, "password": password}})
        assert data["signIn"]["__typename"] == "SignedIn", data
        return data["signIn"]["sessionToken"]  # type: ignore[no-any-return]

    async def create_key(
        self, account: Account, name: str = "server", type: str = "SECRET", **extra: Any
    ) -> tuple[dict[str, Any], str]:
        data = await self.query(
            CREATE_API_KEY,
            {
                "input": {
                    "organizationId": account.organization_id,
                    "name": name,
                    "type": type,
                    **extra,
                }
            },
            token=account.session,
        )
        result = data["createApiKey"]
        assert result["__typename"] == "ApiKeyCreated", result
        return result["apiKey"], result["token"]


@dataclass
class Account:
    email: str
    session: str
    user_id: str
    organization_id: str
    default_key: dict[str, Any]


API_KEY_FIELDS = """
    id name type status isDefault start token createdAt expiresAt rolledAt lastUsedAt
    replacedBy { id }
"""

SIGN_UP = f"""
mutation SignUp($input: SignUpInput!) {{
  signUp(input: $input) {{
    __typename
    ... on SignedIn {{
      sessionToken
      user {{ id email organizations {{ id name viewerRole
        apiKeys {{ edges {{ node {{ {API_KEY_FIELDS} }} }} }} }} }}
    }}
    ... on Error {{ message }}
    ... on InvalidInput {{ field }}
  }}
}}
"""

SIGN_IN = """
mutation SignIn($input: SignInInput!) {
  signIn(input: $input) { __typename ... on SignedIn { sessionToken } ... on Error { message } }
}
"""

CREATE_API_KEY = f"""
mutation CreateApiKey($input: CreateApiKeyInput!) {{
  createApiKey(input: $input) {{
    __typename
    ... on ApiKeyCreated {{ token apiKey {{ {API_KEY_FIELDS} }} }}
    ... on Error {{ message }}
    ... on InvalidInput {{ field }}
  }}
}}
"""


@pytest.fixture
async def client(app: web.Application, aiohttp_client: Any) -> AsyncIterator[TestClient[Any, Any]]:
    test_client = await aiohttp_client(app)
    if ON_POSTGRES:
        await _empty_postgres(app)
    yield test_client


@pytest.fixture
def api(client: TestClient[Any, Any]) -> Api:
    return Api(client)


@pytest.fixture
def db(app: web.Application, client: TestClient[Any, Any]) -> Iterator[None]:
    """Enter the app's database context, for tests that call domain functions directly."""
    with app[DATABASE]:
        yield
