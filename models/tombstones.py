"""Tombstones: what keyward keeps of a deleted or purged key, so that its owner learns when some
forgotten server still sends it.

Written in the transaction that deletes the key. Looked up only when a verification's digest
matched no key (NOT_FOUND), so valid verifications pay nothing. The caller still gets NOT_FOUND:
nothing new is revealed to whoever holds the token; the owner sees the use in
`revokedKeyUses`. Kept for `AUDIT_RETENTION_DAYS`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from tortoise.expressions import Q

from models.access import OrganizationAccess, Permission
from models.audit_entities import KeyLeak, KeyTombstone, RevokedKeyUse
from models.errors import InvalidInput
from models.usage import hour_of

MAX_PAGE_SIZE = 100


class DeadKey(Protocol):
    @property
    def id(self) -> uuid.UUID: ...
    @property
    def organization_id(self) -> uuid.UUID: ...
    @property
    def name(self) -> str: ...
    @property
    def start(self) -> str: ...
    @property
    def digest(self) -> str: ...


async def tombstones_write(keys: Iterable[DeadKey], *, deleted_at: datetime) -> None:
    """Inside the deleting transaction: one tombstone per key."""
    rows = [
        KeyTombstone(
            key_id=key.id,
            digest=key.digest,
            organization_id=key.organization_id,
            name=key.name,
            start=key.start,
            deleted_at=deleted_at,
        )
        for key in keys
    ]
    if rows:
        await KeyTombstone.bulk_create(rows, ignore_conflicts=True)


@dataclass(frozen=True, slots=True)
class RevokedKeyUseRow:
    key_id: uuid.UUID
    name: str
    start: str
    deleted_at: datetime
    last_seen_at: datetime
    last_client_address: str | None
    count: int


@dataclass(frozen=True)
class RevokedKeyUsePage:
    uses: list[RevokedKeyUseRow]
    has_next_page: bool


async def revoked_key_uses_list(
    *,
    access: OrganizationAccess,
    first: int,
    after: tuple[datetime, uuid.UUID] | None,
    since: datetime | None,
) -> RevokedKeyUsePage:
    """Deleted keys of the organization that were used after their deletion, most recently
    seen first. `count` is the uses since `since` (by whole hours) or since deletion; with
    `since`, only keys seen since then are listed. Whoever may list the keys may see this."""
    access.demand(Permission.LIST_KEYS)
    organization_id = access.organization.id
    if not 1 <= first <= MAX_PAGE_SIZE:
        raise InvalidInput("first", f"first must lie between 1 and {MAX_PAGE_SIZE}.")
    query = KeyTombstone.filter(organization_id=organization_id, last_seen_at__not_isnull=True)
    if since is not None:
        query = query.filter(last_seen_at__gte=since)
    if after is not None:
        seen, key_id = after
        query = query.filter(Q(last_seen_at__lt=seen) | Q(last_seen_at=seen, key_id__lt=key_id))
    stones = await query.order_by("-last_seen_at", "-key_id").limit(first + 1)
    page = stones[:first]
    counts: dict[uuid.UUID, int] = {}
    if page:
        uses = RevokedKeyUse.filter(key_id__in=[stone.key_id for stone in page])
        if since is not None:
            uses = uses.filter(hour__gte=hour_of(since))
        for row in await uses.values("key_id", "count"):
            counts[row["key_id"]] = counts.get(row["key_id"], 0) + int(row["count"])
    return RevokedKeyUsePage(
        uses=[
            RevokedKeyUseRow(
                key_id=stone.key_id,
                name=stone.name,
                start=stone.start,
                deleted_at=stone.deleted_at,
                last_seen_at=stone.last_seen_at or stone.deleted_at,
                last_client_address=stone.last_client_address,
                count=counts.get(stone.key_id, 0),
            )
            for stone in page
        ],
        has_next_page=len(stones) > first,
    )


async def tombstones_purge(*, now: datetime, retention_days: int) -> int:
    """Forget tombstones, and their uses and leaks, older than the retention; returns how many."""
    cutoff = now - timedelta(days=retention_days)
    await KeyLeak.filter(found_at__lt=cutoff).delete()
    await RevokedKeyUse.filter(hour__lt=cutoff).delete()
    return await KeyTombstone.filter(deleted_at__lt=cutoff).delete()
