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
    return value if isinstance(value, uuid.UUID) else uuid_of_text(value)


_new_object = object.__new__
_set_slot = object.__setattr__
_UNKNOWN = uuid.SafeUUID.unknown


def uuid_of_text(text: str) -> uuid.UUID:
    """A UUID from the canonical text SQLite holds (36 characters), made without
    `uuid.UUID.__init__`, which handles every other spelling too (~1 µs against ~0.4: a page
    of keys parses some 80). Any other text goes to `uuid.UUID`, and fails there."""
    digits = text.replace("-", "")
    if len(text) != 36 or len(digits) != 32 or not digits.isalnum():
        return uuid.UUID(text)
    made = _new_object(uuid.UUID)
    _set_slot(made, "int", int(digits, 16))
    _set_slot(made, "is_safe", _UNKNOWN)
    return made


def as_moment(value: Any) -> datetime | None:
    """A timestamp column's value as an aware UTC datetime (SQLite returns ISO text)."""
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    if moment.tzinfo is UTC:  # as both drivers return what keyward wrote
        return moment
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
