"""The listing of an organization's keys: one page of plain rows by keyset pagination on
(created_at, id), newest first, in raw SQL (see `models.sql`). A page of model instances cost more
than its query.

Either direction (`first`/`after` or `last`/`before`, see `models.pagination`) is an index range
on (organization_id, created_at, id) read from one end, never a scan. Filters are conditions in
`_Where`: a search by name or `start`, types and statuses (`KeyFilter`) are `where.add(...)`
calls in `_listed`, and the count and the page both honour them; a cursor stays valid under a
filter because the order is the same.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from typing import Any, NamedTuple

from models import expiry
from models.entities import ApiKey, ApiKeyStatus, ApiKeyType, api_key_status
from models.pagination import Page, PageRequest, Position, paginate
from models.sql import as_moment, as_uuid, is_sqlite, numbered, uuid_of_text


class ApiKeyRow(NamedTuple):
    """A listed key as plain data: a page of model instances cost more than its query. A named
    tuple, immutable, made from a row without keyword handling (a frozen dataclass of these 21
    fields took ~2.7 µs a row to construct, a page's parsing twice what it takes now)."""

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
    allowed_cidrs: list[str] | None = None
    allowed_origins: list[str] | None = None
    restriction_mode: str = "ENFORCE"
    last_denied_at: datetime | None = None
    last_denied_reason: str | None = None
    last_denied_address: str | None = None
    last_denied_origin: str | None = None
    # The key `replaced_by_id` names, when the listing joined it (`key_page(replacements=True)`):
    # None there means no replacement of this organization exists (deleted, or never rolled).
    replacement: ApiKeyRow | None = None  # the last field: `_joined` sets it by position

    def status(self, now: datetime) -> ApiKeyStatus:
        return api_key_status(self.expires_at, self.rolled_at, now)


_COLUMN_NAMES = (
    "id, organization_id, name, type, is_default, start, token, created_at, expires_at,"
    " rolled_at, last_used_at, replaced_by_id, created_by_key_id, allowed_cidrs,"
    " allowed_origins, restriction_mode, last_denied_at, last_denied_reason,"
    " last_denied_address, last_denied_origin"
)
_WIDTH = len(_COLUMN_NAMES.split(","))
# Each listed key's replacement, joined on the page's rows as the index range yields them: a
# primary-key lookup each, no sort of its own. Its columns are renamed, so the page's conditions
# (`_Where`) name the listed key's columns alone. The join is on the id only, so that no planner
# can pick the organization's index for it (PostgreSQL did, on a table not yet analyzed, and
# read the organization's every key for each row); `_joined` keeps a replacement only when it
# is of the listed key's organization.
_REPLACEMENT_COLUMNS = "".join(f", r.r_{name.strip()}" for name in _COLUMN_NAMES.split(","))
_REPLACEMENT_JOIN = (
    " LEFT JOIN (SELECT "
    + ", ".join(f"{name.strip()} AS r_{name.strip()}" for name in _COLUMN_NAMES.split(","))
    + " FROM api_key) AS r ON r.r_id = api_key.replaced_by_id"
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


class _Where:
    """SQL conditions joined by AND, with their parameters in order (`?` placeholders)."""

    def __init__(self, sqlite: bool) -> None:
        self.sqlite = sqlite
        self.clauses: list[str] = []
        self.params: list[Any] = []

    def value(self, value: Any) -> Any:
        """A parameter as the driver wants it (SQLite stores UUIDs as text)."""
        return str(value) if self.sqlite and isinstance(value, uuid.UUID) else value

    def add(self, clause: str, *params: Any) -> None:
        self.clauses.append(clause)
        self.params.extend(self.value(param) for param in params)

    def sql(self) -> str:
        return " AND ".join(self.clauses)


def _listed(organization_id: uuid.UUID, sqlite: bool, narrow: KeyFilter | None) -> _Where:
    """The keys a listing shows: the organization's, narrowed by `narrow`."""
    where = _Where(sqlite)
    where.add("organization_id = ?", organization_id)
    if narrow is None:
        return where
    if narrow.search:
        pattern = f"%{_like_escape(narrow.search.lower())}%"
        where.add(
            "(LOWER(name) LIKE ? ESCAPE '\\'"
            " OR substr(start, 1, length(CAST(? AS TEXT))) = CAST(? AS TEXT)"
            " OR substr(CAST(? AS TEXT), 1, length(start)) = start)",
            pattern,
            *[narrow.search] * 3,
        )
    if narrow.types is not None:
        types = sorted(str(key_type) for key_type in narrow.types)
        where.add(f"type IN ({', '.join('?' for _ in types)})", *types)
    if narrow.statuses is not None:
        chosen = sorted(narrow.statuses)
        where.add(
            f"({' OR '.join(_STATUS_SQL[status] for status in chosen)})",
            *[narrow.now.astimezone(UTC)] * len(chosen),
        )
    return where


def _moment(position: Position) -> datetime:
    return position[0].astimezone(UTC)


def page_sql(
    organization_id: uuid.UUID,
    *,
    after: Position | None,
    before: Position | None,
    reverse: bool,
    limit: int,
    sqlite: bool,
    narrow: KeyFilter | None = None,
    extra: str = "",
    extra_params: tuple[Any, ...] = (),
    join: str = "",
) -> tuple[str, list[Any]]:
    """The query of up to `limit` keys strictly between the positions, newest first (oldest
    first when `reverse`), and its parameters: an index range read from one end. `extra` (with
    `extra_params`) are more columns, from `join` too."""
    where = _listed(organization_id, sqlite, narrow)
    if after is not None:  # later in the list: older
        where.add("(created_at, id) < (?, ?)", _moment(after), after[1])
    if before is not None:  # earlier in the list: newer
        where.add("(created_at, id) > (?, ?)", _moment(before), before[1])
    order = "ASC" if reverse else "DESC"
    sql = (
        f"SELECT {_COLUMN_NAMES}{extra} FROM api_key{join} WHERE {where.sql()}"
        f" ORDER BY created_at {order}, id {order} LIMIT ?"
    )
    return (sql if sqlite else numbered(sql)), [*extra_params, *where.params, limit]


def listing_sql(
    organization_id: uuid.UUID,
    *,
    after: Position | None,
    before: Position | None,
    reverse: bool,
    limit: int,
    sqlite: bool,
    narrow: KeyFilter | None = None,
    replacements: bool = False,
) -> tuple[str, list[Any]]:
    """`page_sql`'s page in one statement with what else a listing needs: on each row the count
    of the whole (narrowed) list (an uncorrelated subquery: computed once), and with
    `replacements` the columns of the key its `replaced_by_id` names, when that key exists
    (NULLs otherwise; whether it is of the same organization is for `_joined` to check)."""
    counted = _listed(organization_id, sqlite, narrow)
    return page_sql(
        organization_id,
        after=after,
        before=before,
        reverse=reverse,
        limit=limit,
        sqlite=sqlite,
        narrow=narrow,
        extra=f", (SELECT COUNT(*) FROM api_key WHERE {counted.sql()}) AS total"
        + (_REPLACEMENT_COLUMNS if replacements else ""),
        extra_params=tuple(counted.params),
        join=_REPLACEMENT_JOIN if replacements else "",
    )


async def key_page(
    organization_id: uuid.UUID,
    request: PageRequest,
    narrow: KeyFilter | None = None,
    *,
    replacements: bool = False,
) -> Page[ApiKeyRow]:
    """One page of the organization's keys that pass `narrow`, newest first, as `request` asks;
    and how many keys pass it in all. With `replacements`, each row carries its replacement
    (`ApiKeyRow.replacement`), joined in the page's query.

    The page, its count and its replacements are one statement (`listing_sql`); only an empty
    page asks for its count apart, and a page that does not start at an edge of the list asks
    one row more (see `models.pagination`)."""
    db = ApiKey._meta.db
    sqlite = is_sqlite(db)
    counted: list[int] = []

    async def fetch(
        after: Position | None, before: Position | None, reverse: bool, limit: int
    ) -> list[ApiKeyRow]:
        whole = not counted  # the page itself, not the one-row look beyond its start
        query = partial(listing_sql, replacements=replacements) if whole else page_sql
        sql, params = query(
            organization_id,
            after=after,
            before=before,
            reverse=reverse,
            limit=limit,
            sqlite=sqlite,
            narrow=narrow,
        )
        _, rows = await db.execute_query(sql, params)
        found = [tuple(row) for row in rows]
        if not whole:
            return [_row(row, None, organization_id) for row in found]
        counted.append(int(found[0][_WIDTH]) if found else -1)
        if not replacements:
            return [_row(row[:_WIDTH], None, organization_id) for row in found]
        return _joined(found, organization_id)

    page = await paginate(request, fetch, lambda key: (key.created_at, key.id), 0)
    total = counted[0] if counted else -1
    if total < 0:
        where = _listed(organization_id, sqlite, narrow)
        count_sql = f"SELECT COUNT(*) FROM api_key WHERE {where.sql()}"
        _, count = await db.execute_query(
            count_sql if sqlite else numbered(count_sql), where.params
        )
        total = int(tuple(count[0])[0])
    return replace(page, total_count=total)


def _joined(rows: list[tuple[Any, ...]], organization: uuid.UUID) -> list[ApiKeyRow]:
    """The rows of `listing_sql` with replacements: each key, its count, its replacement's
    columns. A replacement is kept only when it is of the key's organization (both columns as
    the driver returned them). One that is itself on the page (a rolled key's replacement is
    newer, and often listed beside it) is that row of the page, parsed once. (Rows are found by
    their id's integer: a UUID's own hash is a Python call.)"""
    keys = [_row(row[:_WIDTH], None, organization) for row in rows]
    on_page = {key.id.int: key for key in keys}
    joined: list[ApiKeyRow] = []
    for row, key in zip(rows, keys, strict=True):
        if row[_WIDTH + 1] is None or row[_WIDTH + 2] != row[1]:
            joined.append(key)
            continue
        assert key.replaced_by_id is not None
        replacement = on_page.get(key.replaced_by_id.int)
        if replacement is None:
            replacement = _row(row[_WIDTH + 1 :], None, organization)
        joined.append(_new_row(ApiKeyRow, (*key[:-1], replacement)))
    return joined


async def key_rows_by_ids(key_ids: list[uuid.UUID]) -> dict[uuid.UUID, ApiKeyRow]:
    """Keys by id as plain rows, in one query (`replacedBy` and `createdByKey` of a page)."""
    if not key_ids:
        return {}
    db = ApiKey._meta.db
    sqlite = is_sqlite(db)
    marks = ", ".join("?" for _ in key_ids)
    sql = f"SELECT {_COLUMN_NAMES} FROM api_key WHERE id IN ({marks})"
    params = [str(key_id) if sqlite else key_id for key_id in key_ids]
    _, rows = await db.execute_query(sql if sqlite else numbered(sql), params)
    found = (_row(tuple(row)) for row in rows)
    return {key.id: key for key in found}


_TYPES = {str(key_type): key_type for key_type in ApiKeyType}


_UUID = uuid.UUID
_new_row = tuple.__new__


def _row(
    row: tuple[Any, ...],
    replacement: ApiKeyRow | None = None,
    organization: uuid.UUID | None = None,
) -> ApiKeyRow:
    """A row of `_COLUMN_NAMES` as an `ApiKeyRow`; `organization`, when the query chose it, is
    not parsed again."""
    (
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
        cidrs,
        origins,
        mode,
        denied_at,
        denied_reason,
        denied_address,
        denied_origin,
    ) = row
    return _new_row(
        ApiKeyRow,
        (
            key_id if isinstance(key_id, _UUID) else uuid_of_text(key_id),
            as_uuid(org_id) if organization is None else organization,
            name,
            _TYPES[type_],
            bool(is_default),
            start,
            token,
            as_moment(created_at),
            None if expires_at is None else as_moment(expires_at),
            None if rolled_at is None else as_moment(rolled_at),
            None if last_used_at is None else as_moment(last_used_at),
            None if replaced_by_id is None else as_uuid(replaced_by_id),
            None if created_by is None else as_uuid(created_by),
            None if cidrs is None else _json_list(cidrs),
            None if origins is None else _json_list(origins),
            mode or "ENFORCE",
            None if denied_at is None else as_moment(denied_at),
            denied_reason,
            denied_address,
            denied_origin,
            replacement,
        ),
    )


def _json_list(value: Any) -> list[str] | None:
    """A JSON list column: text from the drivers, a list if a codec decoded it."""
    if value is None:
        return None
    return list(json.loads(value) if isinstance(value, str) else value)
