"""Tortoise's configuration for a database URL: the one place that says which engine, pool,
timeouts and models a connection gets. `models.database` opens it; `models.migrator` builds on
it."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

MODEL_MODULES = [
    "models.entities",
    "models.audit_entities",
    "models.notice_entities",
    "models.webhook_entities",
]
MIGRATIONS_MODULE = "models.migrations"

# A connection waits this long for SQLite's write lock before giving up: concurrent writers
# queue instead of failing with "database is locked".
SQLITE_BUSY_TIMEOUT_MS = 10_000
# Opening a connection to a database behind a dead network never fails by itself: give up after
# DB_CONNECT_TIMEOUT_MS (this default) and answer 503.
DEFAULT_CONNECT_TIMEOUT_MS = 2_000
# The server cancels a statement at DB_STATEMENT_TIMEOUT_MS; the client waits a little longer
# so the server's clearer error usually arrives first, and no longer, so a black-holed database
# (which never answers at all) fails a request within that bound.
COMMAND_TIMEOUT_MARGIN_SECONDS = 1


def tortoise_config(
    url: str,
    *,
    pool_size: int = 10,
    statement_timeout_ms: int = 5_000,
    connect_timeout_ms: int = DEFAULT_CONNECT_TIMEOUT_MS,
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
            "engine": "models.pg_client",
            "credentials": {
                "host": parts.hostname or "127.0.0.1",
                "port": parts.port or 5432,
                "user": parts.username or "postgres",
                "password": parts.password or "",
                "database": parts.path.lstrip("/") or "postgres",
                "minsize": 1,
                "maxsize": pool_size,
                # A database behind a dead network never answers at all: give up on it (and
                # answer 503) instead of holding the request for asyncpg's default minute.
                "timeout": connect_timeout_ms / 1000,
                "command_timeout": (
                    statement_timeout_ms / 1000 + COMMAND_TIMEOUT_MARGIN_SECONDS
                    if statement_timeout_ms
                    else None
                ),
                "server_settings": {
                    "statement_timeout": str(statement_timeout_ms),
                    "timezone": "UTC",
                    **options,
                },
            },
        }
    return {
        "connections": {"default": connection},
        "apps": {
            "models": {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": MIGRATIONS_MODULE,
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }
