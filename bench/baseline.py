"""The baselines: bare aiohttp handlers doing the same database work with the raw driver.

`python -m bench.baseline --database URL --port P` serves, on aiosqlite or asyncpg directly (no
ORM, no GraphQL, no middleware):
- `POST /v1/keys/verify`: the same token check and the same indexed lookup by digest;
- `POST /keys`: the bearer lookup, the count and the first page of 50 keys (with `replacedBy`
  by a self-join), as the same nested JSON the GraphQL query returns;
- `POST /create`: the bearer lookup and one INSERT of a new key.
"""

from __future__ import annotations

import argparse
import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import aiosqlite
import asyncpg
from aiohttp import web

from models import tokens

Fetch = Callable[[str, list[Any]], Awaitable[list[Any]]]
Execute = Callable[[str, list[Any]], Awaitable[None]]

KEY_COLUMNS = (
    "k.id, k.name, k.type, k.is_default, k.start, k.token, k.created_at, k.expires_at,"
    " k.rolled_at, k.last_used_at, r.id, r.name, r.start"
)


class Database:
    """One raw driver; `?` placeholders are rewritten to `$n` for PostgreSQL."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sqlite = url.startswith("sqlite://")
        self._sqlite: aiosqlite.Connection | None = None
        self._pool: asyncpg.Pool | None = None

    async def open(self) -> None:
        if self.sqlite:
            self._sqlite = await aiosqlite.connect(self.url.removeprefix("sqlite://"))
            await self._sqlite.execute("PRAGMA journal_mode=WAL")
            await self._sqlite.execute("PRAGMA busy_timeout=10000")
            await self._sqlite.execute("PRAGMA synchronous=NORMAL")
        else:
            self._pool = await asyncpg.create_pool(
                self.url, min_size=1, max_size=10, server_settings={"timezone": "UTC"}
            )

    async def close(self) -> None:
        if self._sqlite is not None:
            await self._sqlite.close()
        if self._pool is not None:
            await self._pool.close()

    def _sql(self, sql: str) -> str:
        if self.sqlite:
            return sql
        parts = sql.split("?")
        return parts[0] + "".join(f"${n}{part}" for n, part in enumerate(parts[1:], 1))

    def param(self, value: Any) -> Any:
        if self.sqlite and isinstance(value, uuid.UUID):
            return str(value)
        if self.sqlite and isinstance(value, datetime):
            return value.isoformat(" ")
        return value

    async def fetch(self, sql: str, params: list[Any]) -> list[Any]:
        args = [self.param(p) for p in params]
        if self._sqlite is not None:
            return list(await self._sqlite.execute_fetchall(sql, args))
        assert self._pool is not None
        return list(await self._pool.fetch(self._sql(sql), *args))

    async def execute(self, sql: str, params: list[Any]) -> None:
        args = [self.param(p) for p in params]
        if self._sqlite is not None:
            await self._sqlite.execute(sql, args)
            await self._sqlite.commit()
            return
        assert self._pool is not None
        await self._pool.execute(self._sql(sql), *args)

    def moment(self, value: Any) -> datetime | None:
        if value is None or isinstance(value, datetime):
            return value
        return datetime.fromisoformat(value)

    def when(self, value: Any) -> str | None:
        moment = self.moment(value)
        return None if moment is None else moment.astimezone(UTC).isoformat()


DB = web.AppKey("db", Database)


async def verify(request: web.Request) -> web.Response:
    db = request.app[DB]
    body = json.loads(await request.read())
    key = body["key"]
    if tokens.parse(key) is None:
        return web.json_response({"valid": False, "code": "MALFORMED"})
    rows = await db.fetch(
        "SELECT id, organization_id, type, name, expires_at FROM api_key WHERE digest = ?",
        [tokens.digest(key)],
    )
    if not rows:
        return web.json_response({"valid": False, "code": "NOT_FOUND"})
    key_id, organization_id, type_, name, expires_at = tuple(rows[0])
    expires = db.moment(expires_at)
    if expires is not None and expires <= datetime.now(UTC):
        return web.json_response({"valid": False, "code": "EXPIRED"})
    return web.json_response(
        {
            "valid": True,
            "code": "VALID",
            "keyId": str(key_id),
            "organizationId": str(organization_id),
            "type": type_,
            "name": name,
            "expiresAt": db.when(expires_at),
        }
    )


async def _bearer_organization(request: web.Request) -> Any:
    db = request.app[DB]
    token = request.headers["Authorization"].removeprefix("Bearer ")
    rows = await db.fetch(
        "SELECT organization_id FROM api_key WHERE digest = ?", [tokens.digest(token)]
    )
    return rows[0][0] if rows else None


async def list_keys(request: web.Request) -> web.Response:
    db = request.app[DB]
    organization_id = await _bearer_organization(request)
    if organization_id is None:
        raise web.HTTPUnauthorized()
    total = (await db.fetch("SELECT COUNT(*) FROM api_key WHERE organization_id = ?",
                            [organization_id]))[0][0]
    rows = await db.fetch(
        f"SELECT {KEY_COLUMNS} FROM api_key k LEFT JOIN api_key r ON r.id = k.replaced_by_id"
        " WHERE k.organization_id = ? ORDER BY k.created_at DESC, k.id DESC LIMIT 51",
        [organization_id],
    )
    now = datetime.now(UTC)
    edges = []
    for row in rows[:50]:
        (key_id, name, type_, is_default, start, token, created_at, expires_at, rolled_at,
         last_used_at, r_id, r_name, r_start) = tuple(row)
        expires = db.moment(expires_at)
        status = "EXPIRED" if expires and expires <= now else "ROLLED" if rolled_at else "ACTIVE"
        edges.append({
            "cursor": str(key_id),
            "node": {
                "id": str(key_id), "name": name, "type": type_, "status": status,
                "isDefault": bool(is_default), "start": start,
                "token": token if type_ == "PUBLIC" else None,
                "createdAt": db.when(created_at), "expiresAt": db.when(expires),
                "rolledAt": db.when(rolled_at), "lastUsedAt": db.when(last_used_at),
                "replacedBy": None if r_id is None
                else {"id": str(r_id), "name": r_name, "start": r_start},
            },
        })
    page = {"hasNextPage": len(rows) > 50, "endCursor": edges[-1]["cursor"] if edges else None}
    body = {"data": {"organization": {"apiKeys": {
        "totalCount": total, "pageInfo": page, "edges": edges}}}}
    return web.json_response(body)


async def create_key(request: web.Request) -> web.Response:
    db = request.app[DB]
    organization_id = await _bearer_organization(request)
    if organization_id is None:
        raise web.HTTPUnauthorized()
    body = json.loads(await request.read())
    token = tokens.generate(tokens.TokenKind.SECRET_KEY)
    key_id, now = uuid.uuid4(), datetime.now(UTC)
    await db.execute(
        "INSERT INTO api_key (id, organization_id, name, type, is_default, digest, start, token,"
        " created_at) VALUES (?, ?, ?, 'SECRET', ?, ?, ?, NULL, ?)",
        [key_id, organization_id, body["name"], False, tokens.digest(token),
         tokens.start(token), now],
    )
    return web.json_response({"id": str(key_id), "token": token, "createdAt": now.isoformat()})


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def create_app(url: str) -> web.Application:
    app = web.Application()
    db = Database(url)
    app[DB] = db

    async def lifecycle(app: web.Application) -> Any:
        await db.open()
        yield
        await db.close()

    app.cleanup_ctx.append(lifecycle)
    app.router.add_post("/v1/keys/verify", verify)
    app.router.add_post("/keys", list_keys)
    app.router.add_post("/create", create_key)
    app.router.add_get("/healthz", healthz)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.baseline")
    parser.add_argument("--database", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    web.run_app(create_app(args.database), host="127.0.0.1", port=args.port, print=None)


if __name__ == "__main__":
    main()
