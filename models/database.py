"""The database connection's lifecycle, owned by whoever runs the domain (the API, the worker).

`database_open` returns the `TortoiseContext`; callers keep it and close exactly that context.
Tortoise tracks the active context in a contextvar, so the API enters it around each request
(`with ctx:`) and the worker around each job, instead of relying on how tasks inherit context.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tortoise.context import TortoiseContext

MODEL_MODULES = ["models.entities"]

# A connection waits this long for SQLite's write lock before giving up: concurrent writers
# queue instead of failing with "database is locked".
SQLITE_BUSY_TIMEOUT_MS = 10_000


def tortoise_config(
    url: str, *, pool_size: int = 10, statement_timeout_ms: int = 5_000
) -> dict[str, Any]:
    """Tortoise's configuration for `url` (sqlite://PATH or postgres://USER@HOST:PORT/DB)."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        path = url.removeprefix("sqlite://")
        connection: dict[str, Any] = {
            "engine": "tortoise.backends.sqlite",
            "credentials": {
                "file_path": path,
                "journal_mode": "WAL",
                "busy_timeout": SQLITE_BUSY_TIMEOUT_MS,
                "foreign_keys": "ON",
                "synchronous": "NORMAL",
            },
        }
    else:
        options = dict(parse_qsl(parts.query))
        connection = {
            "engine": "tortoise.backends.asyncpg",
            "credentials": {
                "host": parts.hostname or "127.0.0.1",
                "port": parts.port or 5432,
                "user": parts.username or "postgres",
                "password": parts.password or "",
                "database": parts.path.lstrip("/") or "postgres",
                "minsize": 1,
                "maxsize": pool_size,
                "server_settings": {
                    "statement_timeout": str(statement_timeout_ms),
                    "timezone": "UTC",
                    **options,
                },
            },
        }
    return {
        "connections": {"default": connection},
        "apps": {"models": {"models": MODEL_MODULES, "default_connection": "default"}},
        "use_tz": True,
        "timezone": "UTC",
    }


async def database_open(
    url: str,
    *,
    pool_size: int = 10,
    statement_timeout_ms: int = 5_000,
    create_schema: bool = False,
) -> TortoiseContext:
    """Connect to `url`; with `create_schema`, create any missing tables (the SQLite default)."""
    ctx = TortoiseContext()
    with ctx:
        await ctx.init(
            config=tortoise_config(
                url, pool_size=pool_size, statement_timeout_ms=statement_timeout_ms
            ),
            _create_db=False,
        )
        if create_schema:
            await ctx.generate_schemas(safe=True)
    return ctx


async def database_close(ctx: TortoiseContext) -> None:
    await ctx.close_connections()
