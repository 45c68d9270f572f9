"""Raw SQL through tortoise's own connection, on either database: what both dialects share.

The hot paths (verification's lookup, the key listing, the purge) skip querysets, whose SQL is
rendered anew on each call and costs more than the indexed query it runs.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient


def is_sqlite(db: BaseDBAsyncClient) -> bool:
    return bool(db.capabilities.dialect == "sqlite")


def numbered(sql: str) -> str:
    """`?` placeholders as PostgreSQL's `$1, $2, …`."""
    parts = sql.split("?")
    return parts[0] + "".join(f"${n}{part}" for n, part in enumerate(parts[1:], 1))


def as_uuid(value: Any) -> uuid.UUID:
    """A UUID column's value (SQLite returns text, asyncpg a UUID)."""
    return value if isinstance(value, uuid.UUID) else uuid.UUID(value)


def as_moment(value: Any) -> datetime | None:
    """A timestamp column's value as an aware UTC datetime (SQLite returns ISO text)."""
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
