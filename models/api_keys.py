"""API keys: create, list, roll and delete (rename and update: `models.key_update`), each on
an access object from `models.access`.

Validity is decided at read time from `expires_at` alone (see `models.key_verification`): a
rolled key's grace is folded into its `expires_at`, so verification never waits for a job. A
secret token exists only in the return value of `api_key_create` / `api_key_roll`; the database
holds its SHA-256 digest.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import expiry, tokens
from models.access import KeyAccess, KeyPrincipal, OrganizationAccess, Permission
from models.audit import actor_of, audit_record, key_target
from models.clock import as_utc, utcnow
from models.entities import ApiKey, ApiKeyStatus, ApiKeyType
from models.errors import ApiKeyNotFound, ApiKeyNotRollable, InvalidInput, Problems
from models.key_changes import key_changed, key_changes
from models.key_listing import ApiKeyRow, KeyFilter, key_page, key_rows_by_ids
from models.pagination import Page, PageRequest
from models.policies import KeyPolicy
from models.request_context import NO_REQUEST, RequestContext
from models.restrictions import RestrictionMode, clean_cidrs, clean_origins
from models.text import clean_text
from models.tombstones import tombstones_write

MAX_NAME_LENGTH = 100
# Keys per DELETE of `keys_remove`: far below both databases' bound-parameter limits.
REMOVE_CHUNK = 500
MAX_SEARCH_LENGTH = 100  # a name is at most MAX_NAME_LENGTH; a pasted token is shorter
DEFAULT_API_KEY_NAME = "Default API Key"

_TOKEN_KIND = {
    ApiKeyType.PUBLIC: tokens.TokenKind.PUBLIC_KEY,
    ApiKeyType.SECRET: tokens.TokenKind.SECRET_KEY,
}


def clean_name(name: str, field: str) -> str:
    name = clean_text(name, field).strip()
    if not 1 <= len(name) <= MAX_NAME_LENGTH:
        raise InvalidInput(field, f"A name needs 1 to {MAX_NAME_LENGTH} characters.")
    return name


def _clean_expiry(expires_at: datetime | None, now: datetime) -> datetime | None:
    if expires_at is None:
        return None
    try:
        moment = as_utc(expires_at)
    except ValueError:
        raise InvalidInput("expiresAt", "The date needs a UTC offset, such as Z.") from None
    except OverflowError:  # e.g. 9999-12-31T23:59:59-05:00 is in the year 10000 in UTC
        raise InvalidInput("expiresAt", "The date is out of range.") from None
    if moment <= now:
        raise InvalidInput("expiresAt", "The expiration date must lie in the future.")
    return moment


def _new_key(
    *,
    organization_id: uuid.UUID,
    name: str,
    type: ApiKeyType,
    expires_at: datetime | None,
    now: datetime,
    policy: KeyPolicy,
    is_default: bool,
    created_by_key_id: uuid.UUID | None = None,
    allowed_cidrs: list[str] | None = None,
    allowed_origins: list[str] | None = None,
    restriction_mode: RestrictionMode = RestrictionMode.ENFORCE,
) -> tuple[ApiKey, str]:
    token = tokens.generate(_TOKEN_KIND[type], policy.token_prefix)
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
        created_by_key_id=created_by_key_id,
        allowed_cidrs=allowed_cidrs or None,
        allowed_origins=allowed_origins or None,
        restriction_mode=restriction_mode,
    )
    return key, token


def _creator(access: OrganizationAccess) -> uuid.UUID | None:
    """The key acting, when a key (not a person) creates or rolls one."""
    principal = access.principal
    return principal.key_id if isinstance(principal, KeyPrincipal) else None


async def _existing_creator(access: OrganizationAccess) -> uuid.UUID | None:
    """`_creator`, when that key still exists (a roll inserts inside its transaction, where a
    failed insert cannot simply be retried)."""
    creator = _creator(access)
    if creator is None or not await ApiKey.exists(id=creator):
        return None
    return creator


async def api_key_create(
    *,
    access: OrganizationAccess,
    name: str,
    type: ApiKeyType,
    expires_at: datetime | None,
    now: datetime,
    policy: KeyPolicy,
    context: RequestContext = NO_REQUEST,
    allowed_cidrs: list[str] | None = None,
    allowed_origins: list[str] | None = None,
    restriction_mode: RestrictionMode = RestrictionMode.ENFORCE,
) -> tuple[ApiKey, str]:
    """A new key and its token: the only moment a secret token exists outside its holder.
    Every bad field (each bad restriction entry) is reported at once. A key made by a key
    records its creator. Recorded as `api_key.created`."""
    access.demand(Permission.MANAGE_KEYS)
    problems = Problems()
    try:
        name = clean_name(name, "name")
    except InvalidInput as error:
        problems.catch(error)
    try:
        expires_at = _clean_expiry(expires_at, now)
    except InvalidInput as error:
        problems.catch(error)
    try:
        allowed_cidrs = clean_cidrs(allowed_cidrs or [])
    except InvalidInput as error:
        problems.catch(error)
    try:
        allowed_origins = clean_origins(allowed_origins or [])
    except InvalidInput as error:
        problems.catch(error)
    problems.check()
    key, token = _new_key(
        organization_id=access.organization.id,
        name=name,
        type=type,
        expires_at=expires_at,
        now=now,
        policy=policy,
        is_default=False,
        # Looked up first: inside a caller's transaction (PostgreSQL) a failed insert cannot be
        # retried, so the retry below only covers a key deleted in between.
        created_by_key_id=await _existing_creator(access),
        allowed_cidrs=allowed_cidrs,
        allowed_origins=allowed_origins,
        restriction_mode=restriction_mode,
    )
    actor = await actor_of(access.principal)
    async with in_transaction():
        try:
            async with in_transaction():
                await key.save(force_create=True)
        except IntegrityError:
            if key.created_by_key_id is None:
                raise
            # The acting key was deleted while this request ran: nothing left to point at.
            key.created_by_key_id = None
            await key.save(force_create=True)
        await audit_record(
            organization_id=key.organization_id,
            action="api_key.created",
            actor=actor,
            target=key_target(key.id, key.name),
            details={
                "start": key.start,
                "type": key.type.value,
                "expiresAt": None if expires_at is None else expires_at.isoformat(),
                **restriction_details(key),
            },
            context=context,
            now=now,
        )
    return key, token


async def default_api_key_create(
    *, organization_id: uuid.UUID, now: datetime, policy: KeyPolicy
) -> ApiKey:
    """The public Default API Key every organization gets when it is founded (inside the
    founding transaction, by `models.accounts`)."""
    key, _ = _new_key(
        organization_id=organization_id,
        name=DEFAULT_API_KEY_NAME,
        type=ApiKeyType.PUBLIC,
        expires_at=None,
        now=now,
        policy=policy,
        is_default=True,
    )
    await key.save(force_create=True)
    return key


async def api_key_list(
    *,
    access: OrganizationAccess,
    page: PageRequest,
    now: datetime,
    search: str | None = None,
    types: list[ApiKeyType] | None = None,
    statuses: list[ApiKeyStatus] | None = None,
    replacements: bool = False,
) -> Page[ApiKeyRow]:
    """One page of the organization's keys, newest first (see `models.pagination`): plain rows
    from raw SQL (see `models.key_listing`), no model instances. `search` (in the name, or the
    beginning of the token), `types` and `statuses` (at `now`) narrow it; an empty or missing
    one does not, and the page's total counts the narrowed set. With `replacements`, each row
    carries the key that replaced it, when that key is of the same organization."""
    access.demand(Permission.LIST_KEYS)
    search = (search or "").strip() or None
    if search is not None and len(search) > MAX_SEARCH_LENGTH:
        raise InvalidInput("search", f"A search needs at most {MAX_SEARCH_LENGTH} characters.")
    keys = KeyFilter(
        now=now,
        search=search,
        types=frozenset(types) if types else None,
        statuses=frozenset(statuses) if statuses else None,
    )
    return await key_page(access.organization.id, page, keys, replacements=replacements)


async def api_keys_by_ids(*, key_ids: list[uuid.UUID]) -> dict[uuid.UUID, ApiKeyRow]:
    """Keys by id in one query (for `replacedBy` in listings), as plain rows. The caller holds
    rows that reference them and shows a key only when it is of the same organization as its
    row."""
    return await key_rows_by_ids(key_ids)


async def api_key_roll(
    *,
    access: KeyAccess,
    grace_seconds: int | None,
    now: datetime,
    policy: KeyPolicy,
    context: RequestContext = NO_REQUEST,
) -> tuple[ApiKey, str, ApiKey]:
    """Replace an ACTIVE key; the old one keeps working for `grace_seconds` (by default the
    policy's; never past its own expiration). Returns (replacement, its token, the rolled key).

    Atomic: the old key is claimed by a conditional UPDATE, so when several rolls race exactly
    one wins and the others get `ApiKeyNotRollable`, or `ApiKeyNotFound` when a delete won
    (SQLite ignores SELECT … FOR UPDATE).
    """
    access.demand(Permission.MANAGE_KEYS)
    grace = policy.grace_default_seconds if grace_seconds is None else grace_seconds
    if not 0 <= grace <= policy.grace_max_seconds:
        raise InvalidInput(
            "gracePeriodSeconds",
            f"The grace period must lie between 0 and {policy.grace_max_seconds} seconds.",
        )
    organization_id, key_id = access.organization.organization.id, access.key.id
    old = await ApiKey.get_or_none(id=key_id, organization_id=organization_id)
    if old is None:
        raise ApiKeyNotFound()
    if old.status(now) is not ApiKeyStatus.ACTIVE:
        raise ApiKeyNotRollable()
    grace_end = now + timedelta(seconds=grace)
    old_expires_at = grace_end if old.expires_at is None else min(old.expires_at, grace_end)
    new, token = _new_key(
        organization_id=organization_id,
        name=old.name,
        type=old.type,
        expires_at=old.expires_at,
        now=now,
        policy=policy,
        is_default=old.is_default,
        created_by_key_id=await _existing_creator(access.organization),
        # The replacement works where the old key did: restrictions are copied.
        allowed_cidrs=old.allowed_cidrs,
        allowed_origins=old.allowed_origins,
        restriction_mode=old.restriction_mode,
    )
    actor = await actor_of(access.organization.principal)
    try:
        async with key_changes():
            await new.save(force_create=True)
            claimed = await (
                ApiKey.filter(id=key_id, organization_id=organization_id, rolled_at=None)
                .filter(expiry.live_q(now))
                .update(
                    rolled_at=now,
                    expires_at=old_expires_at,
                    replaced_by_id=new.id,
                    is_default=False,
                )
            )
            if claimed != 1:
                raise _LostRace()
            await key_changed(key_ids=[key_id])  # the old key's expires_at moved
            await audit_record(
                organization_id=organization_id,
                action="api_key.rolled",
                actor=actor,
                target=key_target(old.id, old.name),
                details={
                    "start": old.start,
                    "oldKeyId": str(old.id),
                    "newKeyId": str(new.id),
                    "newKeyStart": new.start,
                    "graceEndsAt": old_expires_at.isoformat(),
                },
                context=context,
                now=now,
            )
    except _LostRace:
        # Lost to a concurrent roll (the key is no longer ACTIVE) or delete (it is gone).
        if not await ApiKey.exists(id=key_id, organization_id=organization_id):
            raise ApiKeyNotFound() from None
        raise ApiKeyNotRollable() from None
    old.rolled_at, old.expires_at = now, old_expires_at
    old.replaced_by_id, old.is_default = new.id, False
    return new, token, old


def restriction_details(key: ApiKey) -> dict[str, object]:
    """A key's restrictions for an audit event (only when it has any)."""
    if not key.allowed_cidrs and not key.allowed_origins:
        return {}
    return {
        "allowedCidrs": key.allowed_cidrs or [],
        "allowedOrigins": key.allowed_origins or [],
        "restrictionMode": RestrictionMode(key.restriction_mode).value,
    }


class _LostRace(ApiKeyNotRollable):
    """Raised inside the roll's transaction to undo the replacement's insert."""


async def api_key_delete(
    *,
    access: KeyAccess,
    now: datetime | None = None,
    context: RequestContext = NO_REQUEST,
) -> uuid.UUID:
    """Delete a key: its very next use fails. Returns its id. Its digest moves to a tombstone
    (`models.tombstones`), so later uses are shown to its owner; recorded as
    `api_key.deleted`."""
    access.demand(Permission.MANAGE_KEYS)
    organization_id, key = access.organization.organization.id, access.key
    now = now or utcnow()
    actor = await actor_of(access.organization.principal)
    async with key_changes():
        if not await keys_remove([key], now=now):
            raise ApiKeyNotFound()
        await audit_record(
            organization_id=organization_id,
            action="api_key.deleted",
            actor=actor,
            target=key_target(key.id, key.name),
            details={
                "start": key.start,
                "type": key.type.value,
                "expiresAt": None if key.expires_at is None else key.expires_at.isoformat(),
            },
            context=context,
            now=now,
        )
    return key.id


async def keys_remove(keys: Sequence[ApiKey], *, now: datetime) -> int:
    """Inside the caller's `key_changes()` transaction: delete `keys` (of one organization), tell
    every verification cache, and leave their tombstones; returns how many this call deleted
    (0: they were already gone). The one delete path (deleteApiKey, and leaked keys revoked by
    `models.leaks`, a batch at a time); the caller records the audit events."""
    deleted = 0
    for at in range(0, len(keys), REMOVE_CHUNK):
        chunk = keys[at : at + REMOVE_CHUNK]
        deleted += await ApiKey.filter(
            id__in=[key.id for key in chunk], organization_id=chunk[0].organization_id
        ).delete()
    if deleted:
        await key_changed(key_ids=[key.id for key in keys])
        # A key a concurrent delete took already has its tombstone: those are skipped.
        await tombstones_write(keys, deleted_at=now)
    return deleted
