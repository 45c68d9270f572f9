"""API keys: create, list, roll, delete and verify.

Validity is decided here, at read time, from `expires_at` alone: a rolled key's grace is folded
into its `expires_at`, so verification never waits for a job. A secret token exists only in the
return value of `api_key_create` / `api_key_roll`; the database holds its SHA-256 digest.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models import tokens
from models.entities import ApiKey, ApiKeyStatus, ApiKeyType, api_key_status
from models.errors import ApiKeyNotFound, ApiKeyNotRollable, InvalidInput
from models.hot_path import ApiKeyRow, key_by_digest, key_page, last_used_record

MAX_NAME_LENGTH = 100
MAX_GRACE_SECONDS = 604_800  # 7 days
MAX_PAGE_SIZE = 100
# lastUsedAt is a hint for people, not an audit log: one write per key per minute at most
# keeps the verification hot path read-only under load.
LAST_USED_RESOLUTION = timedelta(minutes=1)

_TOKEN_KIND = {
    ApiKeyType.PUBLIC: tokens.TokenKind.PUBLIC_KEY,
    ApiKeyType.SECRET: tokens.TokenKind.SECRET_KEY,
}


def clean_name(name: str, field: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= MAX_NAME_LENGTH:
        raise InvalidInput(field, f"A name needs 1 to {MAX_NAME_LENGTH} characters.")
    return name


def _new_key(
    *,
    organization_id: uuid.UUID,
    name: str,
    type: ApiKeyType,
    expires_at: datetime | None,
    now: datetime,
    token_prefix: str,
    is_default: bool,
) -> tuple[ApiKey, str]:
    token = tokens.generate(_TOKEN_KIND[type], token_prefix)
    key = ApiKey(
        organization_id=organization_id,
        name=name,
        type=type,
        is_default=is_default,
        digest=tokens.digest(token),
        start=tokens.start(token),
        token=token if type is ApiKeyType.PUBLIC else None,
        created_at=now,
        expires_at=expires_at,
    )
    return key, token


async def api_key_create(
    *,
    organization_id: uuid.UUID,
    name: str,
    type: ApiKeyType,
    expires_at: datetime | None,
    now: datetime,
    token_prefix: str = "",
    is_default: bool = False,
) -> tuple[ApiKey, str]:
    """A new key and its token: the only moment a secret token exists outside its holder."""
    name = clean_name(name, "name")
    if expires_at is not None and expires_at <= now:
        raise InvalidInput("expiresAt", "The expiration date must lie in the future.")
    key, token = _new_key(
        organization_id=organization_id,
        name=name,
        type=type,
        expires_at=expires_at,
        now=now,
        token_prefix=token_prefix,
        is_default=is_default,
    )
    await key.save(force_create=True)
    return key, token


@dataclass(frozen=True)
class ApiKeyPage:
    keys: list[ApiKeyRow]
    has_next_page: bool
    total_count: int


async def api_key_list(
    *, organization_id: uuid.UUID, first: int, after: tuple[datetime, uuid.UUID] | None
) -> ApiKeyPage:
    """One page of the organization's keys, newest first, after the (created_at, id) cursor:
    plain rows from raw SQL (see `models.hot_path.key_page`), no model instances."""
    if not 1 <= first <= MAX_PAGE_SIZE:
        raise InvalidInput("first", f"first must lie between 1 and {MAX_PAGE_SIZE}.")
    keys, total = await key_page(organization_id, after, first + 1)
    return ApiKeyPage(keys=keys[:first], has_next_page=len(keys) > first, total_count=total)


async def api_keys_by_ids(*, key_ids: list[uuid.UUID]) -> dict[uuid.UUID, ApiKey]:
    """Keys by id in one query (for `replacedBy` in listings); the caller already holds rows
    that reference them, so no organization filter is needed beyond the ids themselves."""
    return {key.id: key for key in await ApiKey.filter(id__in=key_ids)}


async def api_key_roll(
    *,
    organization_id: uuid.UUID,
    key_id: uuid.UUID,
    grace_seconds: int,
    now: datetime,
    token_prefix: str = "",
) -> tuple[ApiKey, str, ApiKey]:
    """Replace an ACTIVE key; the old one keeps working for `grace_seconds` (never past its own
    expiration). Returns (replacement, its token, the rolled key).

    Atomic: the old key is claimed by a conditional UPDATE, so when several rolls race exactly
    one wins and the others get `ApiKeyNotRollable`, or `ApiKeyNotFound` when a delete won
    (SQLite ignores SELECT … FOR UPDATE).
    """
    if not 0 <= grace_seconds <= MAX_GRACE_SECONDS:
        raise InvalidInput(
            "gracePeriodSeconds", f"The grace period must lie between 0 and {MAX_GRACE_SECONDS}."
        )
    old = await ApiKey.get_or_none(id=key_id, organization_id=organization_id)
    if old is None:
        raise ApiKeyNotFound()
    if old.status(now) is not ApiKeyStatus.ACTIVE:
        raise ApiKeyNotRollable()
    grace_end = now + timedelta(seconds=grace_seconds)
    old_expires_at = grace_end if old.expires_at is None else min(old.expires_at, grace_end)
    new, token = _new_key(
        organization_id=organization_id,
        name=old.name,
        type=old.type,
        expires_at=old.expires_at,
        now=now,
        token_prefix=token_prefix,
        is_default=old.is_default,
    )
    try:
        async with in_transaction():
            await new.save(force_create=True)
            claimed = await (
                ApiKey.filter(id=key_id, organization_id=organization_id, rolled_at=None)
                .filter(Q(expires_at=None) | Q(expires_at__gt=now))
                .update(
                    rolled_at=now,
                    expires_at=old_expires_at,
                    replaced_by_id=new.id,
                    is_default=False,
                )
            )
            if claimed != 1:
                raise _LostRace()
    except _LostRace:
        # Lost to a concurrent roll (the key is no longer ACTIVE) or delete (it is gone).
        if not await ApiKey.exists(id=key_id, organization_id=organization_id):
            raise ApiKeyNotFound() from None
        raise ApiKeyNotRollable() from None
    old.rolled_at, old.expires_at = now, old_expires_at
    old.replaced_by_id, old.is_default = new.id, False
    return new, token, old


class _LostRace(ApiKeyNotRollable):
    """Raised inside the roll's transaction to undo the replacement's insert."""


async def api_key_delete(*, organization_id: uuid.UUID, key_id: uuid.UUID) -> None:
    """Delete a key, digest and all: its very next use fails."""
    if await ApiKey.filter(id=key_id, organization_id=organization_id).delete() == 0:
        raise ApiKeyNotFound()


class VerificationCode(StrEnum):
    VALID = "VALID"
    MALFORMED = "MALFORMED"
    NOT_FOUND = "NOT_FOUND"
    EXPIRED = "EXPIRED"


@dataclass(frozen=True, slots=True)
class Verification:
    code: VerificationCode
    key_id: uuid.UUID | None = None
    organization_id: uuid.UUID | None = None
    type: ApiKeyType | None = None
    name: str | None = None
    expires_at: datetime | None = None

    @property
    def valid(self) -> bool:
        return self.code is VerificationCode.VALID


_MALFORMED = Verification(VerificationCode.MALFORMED)
_NOT_FOUND = Verification(VerificationCode.NOT_FOUND)
_EXPIRED = Verification(VerificationCode.EXPIRED)
_KEY_KINDS = (tokens.TokenKind.PUBLIC_KEY, tokens.TokenKind.SECRET_KEY)


async def api_key_verify(
    *, token: str, now: datetime, within: Collection[uuid.UUID] | None = None
) -> Verification:
    """Whether `token` is a usable key at `now`: one indexed lookup by digest in raw SQL, no
    queryset and no model instance (see `models.hot_path`). A made-up or mistyped token is
    MALFORMED without touching the database. With `within`, a key of any other organization is
    NOT_FOUND and its usage is not recorded."""
    if tokens.parse(token) not in _KEY_KINDS:
        return _MALFORMED
    row = await key_by_digest(tokens.digest(token))
    if row is None:
        return _NOT_FOUND
    if within is not None and row.organization_id not in within:
        return _NOT_FOUND
    expires_at = row.expires_at
    if api_key_status(expires_at, None, now) is ApiKeyStatus.EXPIRED:
        return _EXPIRED
    since = now - LAST_USED_RESOLUTION
    if row.last_used_at is None or row.last_used_at <= since:
        await last_used_record(row.id, now=now, since=since)
    return Verification(
        code=VerificationCode.VALID,
        key_id=row.id,
        organization_id=row.organization_id,
        type=ApiKeyType(row.type),
        name=row.name,
        expires_at=expires_at,
    )
