"""The listing of an organization's keys: one page of plain rows by keyset pagination on
(created_at, id), newest first, in raw SQL (see `models.sql`). A page of model instances cost more
than its query."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from models.entities import ApiKey, ApiKeyStatus, ApiKeyType, api_key_status
from models.sql import as_moment, as_uuid, is_sqlite, numbered


@dataclass(frozen=True, slots=True)
class ApiKeyRow:
    """A listed key as plain data: a page of model instances cost more than its query."""

    id: uuid.UUID
    organization_id: uuid.UUID
    name: str
    type: ApiKeyType
    is_default: bool
    start: str
    token: str | None
    created_at: datetime
    expires_at: datetime | None
    rolled_at: datetime | None
    last_used_at: datetime | None
    replaced_by_id: uuid.UUID | None
    created_by_key_id: uuid.UUID | None = None

    def status(self, now: datetime) -> ApiKeyStatus:
        return api_key_status(self.expires_at, self.rolled_at, now)


_PAGE_COLUMNS = (
    "id, organization_id, name, type, is_default, start, token, created_at, expires_at,"
    " rolled_at, last_used_at, replaced_by_id, created_by_key_id"
)


async def key_page(
    organization_id: uuid.UUID, after: tuple[datetime, uuid.UUID] | None, limit: int
) -> tuple[list[ApiKeyRow], int]:
    """Up to `limit` of the organization's keys, newest first, strictly after the
    (created_at, id) cursor; and how many keys the organization has in all."""
    db = ApiKey._meta.db
    sqlite = is_sqlite(db)
    organization: Any = str(organization_id) if sqlite else organization_id
    where, params = "organization_id = ?", [organization]
    if after is not None:
        created_at, key_id = after[0].astimezone(UTC), after[1]
        where += " AND (created_at < ? OR (created_at = ? AND id < ?))"
        params += [created_at, created_at, str(key_id) if sqlite else key_id]
    page_sql = (
        f"SELECT {_PAGE_COLUMNS} FROM api_key WHERE {where}"
        " ORDER BY created_at DESC, id DESC LIMIT ?"
    )
    count_sql = "SELECT COUNT(*) FROM api_key WHERE organization_id = ?"
    if not sqlite:
        page_sql, count_sql = numbered(page_sql), numbered(count_sql)
    _, counted = await db.execute_query(count_sql, [organization])
    _, rows = await db.execute_query(page_sql, [*params, limit])
    keys = [
        ApiKeyRow(
            id=as_uuid(key_id),
            organization_id=as_uuid(org_id),
            name=name,
            type=ApiKeyType(type_),
            is_default=bool(is_default),
            start=start,
            token=token,
            created_at=as_moment(created_at),  # type: ignore[arg-type]
            expires_at=as_moment(expires_at),
            rolled_at=as_moment(rolled_at),
            last_used_at=as_moment(last_used_at),
            replaced_by_id=None if replaced_by_id is None else as_uuid(replaced_by_id),
            created_by_key_id=None if created_by is None else as_uuid(created_by),
        )
        for (
            key_id,
            org_id,
            name,
            type_,
            is_default,
            start,
            token,
            created_at,
            expires_at,
            rolled_at,
            last_used_at,
            replaced_by_id,
            created_by,
        ) in (tuple(row) for row in rows)
    ]
    return keys, int(tuple(counted[0])[0])
