"""The listing of an organization's keys: one page of plain rows by keyset pagination on
(created_at, id), newest first, in raw SQL (see `models.sql`). A page of model instances cost more
than its query. The page may be narrowed by a search and by types and statuses; the count is of
the narrowed set, and a cursor stays valid because the order is the same."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from models import expiry
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

    def status(self, now: datetime) -> ApiKeyStatus:
        return api_key_status(self.expires_at, self.rolled_at, now)


_PAGE_COLUMNS = (
    "id, organization_id, name, type, is_default, start, token, created_at, expires_at,"
    " rolled_at, last_used_at, replaced_by_id"
)


@dataclass(frozen=True, slots=True)
class KeyFilter:
    """Which keys a listing shows: `search` is in the name (any case) or is a beginning of the
    key's `start` (or the start is a beginning of it: a pasted token finds its key); `types` and
    `statuses` each allow any of theirs (None: all). A status is decided at `now`."""

    now: datetime
    search: str | None = None
    types: frozenset[ApiKeyType] | None = None
    statuses: frozenset[ApiKeyStatus] | None = None


# A key's status as SQL conditions, from the same rule as `api_key_status`.
_STATUS_SQL = {
    ApiKeyStatus.EXPIRED: expiry.ended_sql("?"),
    ApiKeyStatus.ROLLED: f"({expiry.live_sql('?')} AND rolled_at IS NOT NULL)",
    ApiKeyStatus.ACTIVE: f"({expiry.live_sql('?')} AND rolled_at IS NULL)",
}


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _filter_sql(keys: KeyFilter) -> tuple[str, list[Any]]:
    """The filter's extra WHERE conditions (with `?` placeholders) and their parameters."""
    where = ""
    params: list[Any] = []
    if keys.search:
        where += (
            " AND (LOWER(name) LIKE ? ESCAPE '\\'"
            " OR substr(start, 1, length(CAST(? AS TEXT))) = CAST(? AS TEXT)"
            " OR substr(CAST(? AS TEXT), 1, length(start)) = start)"
        )
        params += [f"%{_like_escape(keys.search.lower())}%", *[keys.search] * 3]
    if keys.types is not None:
        where += f" AND type IN ({', '.join('?' for _ in keys.types)})"
        params += sorted(str(key_type) for key_type in keys.types)
    if keys.statuses is not None:
        chosen = sorted(keys.statuses)
        where += f" AND ({' OR '.join(_STATUS_SQL[status] for status in chosen)})"
        params += [keys.now.astimezone(UTC)] * len(chosen)
    return where, params


async def key_page(
    organization_id: uuid.UUID,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
    narrow: KeyFilter | None = None,
) -> tuple[list[ApiKeyRow], int]:
    """Up to `limit` of the organization's keys that pass `narrow`, newest first, strictly after
    the (created_at, id) cursor; and how many keys pass it in all."""
    db = ApiKey._meta.db
    sqlite = is_sqlite(db)
    organization: Any = str(organization_id) if sqlite else organization_id
    where, params = "organization_id = ?", [organization]
    if narrow is not None:
        narrowed, extra = _filter_sql(narrow)
        where, params = where + narrowed, params + extra
    counted_where, counted_params = where, list(params)
    if after is not None:
        created_at, key_id = after[0].astimezone(UTC), after[1]
        where += " AND (created_at < ? OR (created_at = ? AND id < ?))"
        params += [created_at, created_at, str(key_id) if sqlite else key_id]
    page_sql = (
        f"SELECT {_PAGE_COLUMNS} FROM api_key WHERE {where}"
        " ORDER BY created_at DESC, id DESC LIMIT ?"
    )
    count_sql = f"SELECT COUNT(*) FROM api_key WHERE {counted_where}"
    if not sqlite:
        page_sql, count_sql = numbered(page_sql), numbered(count_sql)
    _, counted = await db.execute_query(count_sql, counted_params)
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
        ) in (tuple(row) for row in rows)
    ]
    return keys, int(tuple(counted[0])[0])
