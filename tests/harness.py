"""The test harness's plain parts, imported by the tests and by `conftest.py`'s fixtures:
a GraphQL client over real HTTP, a hand-moved clock, the seed's documents, database helpers.

A plain module, not `conftest.py`: pytest imports a conftest under its own name, so classes
defined there would exist twice (`conftest.Api` is not `tests.conftest.Api`).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from tortoise import connections

from models.access import (
    KeyAccess,
    KeyPrincipal,
    OrganizationAccess,
    Permission,
    key_access,
    organization_access,
)
from models.db_config import tortoise_config
from models.entities import ApiKeyType
from models.errors import ApiKeyNotFound
from web.fast_verify import KeywardRunner
from web.state import DATABASE

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
ON_POSTGRES = TEST_DATABASE_URL.startswith(("postgres://", "postgresql://"))
# argon2 at a test cost: the production cost (~100 ms a hash) would dominate the suite. And no
# practical sign-up limit: every test signs up from 127.0.0.1 (tests/test_attack_limits.py sets
# its own).
FAST_PASSWORDS = {
    "password_time_cost": 1,
    "password_memory_kib": 1024,
    "sign_up_max_per_address_per_hour": 1_000_000,
}
PASSWORD = "correct horse battery staple"
T = TypeVar("T")


class KeywardTestServer(TestServer):
    """A test server that listens as `server.py serve` does: through the verification fast
    path (`web/fast_verify.py`), with keyward's access log."""

    async def _make_runner(self, **kwargs: Any) -> web.AppRunner:
        return KeywardRunner(self.app, **kwargs)


@dataclass
class Clock:
    """A clock the test moves by hand."""

    now: datetime = field(default_factory=lambda: datetime(2030, 1, 1, 12, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


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


async def postgres_execute(url: str, sql: str) -> list[dict[str, Any]]:
    from tortoise.backends.asyncpg.client import AsyncpgDBClient

    config = tortoise_config(url)["connections"]["default"]["credentials"]
    client = AsyncpgDBClient(connection_name="admin", **config)
    await client.create_connection(with_db=True)
    try:
        rows: list[dict[str, Any]] = await client.execute_query_dict(sql)
        return rows
    finally:
        await client.close()


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
        organization = nodes(result["user"]["organizations"])[0]
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


def nodes(connection: dict[str, Any]) -> list[dict[str, Any]]:
    """The items of a connection's page, in order."""
    return [edge["node"] for edge in connection["edges"]]


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
      user {{ id email organizations(first: 1) {{ edges {{ node {{ id name viewerRole
        apiKeys(first: 5) {{ edges {{ node {{ {API_KEY_FIELDS} }} }} }} }} }} }} }}
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


async def key_manager(organization_id: uuid.UUID) -> OrganizationAccess:
    """Access to manage an organization's keys, for tests that call the domain directly: asked
    of `models.access` as a secret key of that organization would ask it."""
    principal = KeyPrincipal(
        key_id=uuid.uuid4(), organization_id=organization_id, type=ApiKeyType.SECRET
    )
    access = await organization_access(principal, organization_id, Permission.MANAGE_KEYS)
    assert access is not None, "no such organization"
    return access


async def key_managed(organization_id: uuid.UUID, key_id: uuid.UUID) -> KeyAccess:
    """Access to manage one key (see `key_manager`); `ApiKeyNotFound` when there is none, as
    the API answers."""
    principal = KeyPrincipal(
        key_id=uuid.uuid4(), organization_id=organization_id, type=ApiKeyType.SECRET
    )
    access = await key_access(principal, key_id, Permission.MANAGE_KEYS)
    if access is None:
        raise ApiKeyNotFound()
    return access


async def postgres_empty(app: web.Application) -> None:
    """Empty every table of the app's PostgreSQL schema but the migrations' record."""
    with app[DATABASE]:
        connection = connections.get("default")
        _, rows = await connection.execute_query(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
            " AND tablename <> 'tortoise_migrations'"
        )
        tables = ", ".join(f'"{row["tablename"]}"' for row in rows)
        await connection.execute_script(f"TRUNCATE {tables} CASCADE")
