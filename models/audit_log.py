"""Reading the audit log: a filtered page for people (newest first), the whole chain for export
(oldest first, in constant memory), the chain's verification, and the retention purge.

The retention purge removes an organization's oldest events and stores the hash of the last one it
removed as the chain's anchor, so the chain stays verifiable from the first kept event.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.functions import Max
from tortoise.transactions import in_transaction

from models.access import OrganizationAccess, Permission
from models.audit import GENESIS_HASH, canonical_event, chain_hash
from models.audit_entities import AuditChain, AuditEvent, KeyUsage, SecurityEvent
from models.errors import Problems
from models.tombstones import tombstones_purge

MAX_PAGE_SIZE = 100
MAX_ACTIONS = 20
# Events read per query by the export and the verification: memory stays flat for any length.
CHUNK = 500
# Events removed per statement by the retention purge (each holds SQLite's write lock).
PURGE_BATCH = 2_000
DEFAULT_RETENTION_DAYS = 365


@dataclass(frozen=True)
class AuditEventPage:
    events: list[AuditEvent]
    has_next_page: bool


async def audit_events_list(
    *,
    access: OrganizationAccess,
    first: int,
    after: int | None,
    actions: list[str] | None,
    actor_id: str | None,
    target_id: str | None,
    since: datetime | None,
    until: datetime | None,
) -> AuditEventPage:
    """One page of the organization's events, newest first, before the sequence `after`."""
    access.demand(Permission.VIEW_AUDIT_LOG)
    problems = Problems()
    if not 1 <= first <= MAX_PAGE_SIZE:
        problems.add("first", f"first must lie between 1 and {MAX_PAGE_SIZE}.")
    if actions is not None and len(actions) > MAX_ACTIONS:
        problems.add("actions", f"Name at most {MAX_ACTIONS} actions.")
    if since is not None and until is not None and until < since:
        problems.add("until", "until must not lie before since.")
    problems.check()
    query = AuditEvent.filter(organization_id=access.organization.id)
    if after is not None:
        query = query.filter(sequence__lt=after)
    if actions:
        query = query.filter(action__in=actions)
    if actor_id is not None:
        query = query.filter(actor_id=actor_id)
    if target_id is not None:
        query = query.filter(target_id=target_id)
    if since is not None:
        query = query.filter(occurred_at__gte=since)
    if until is not None:
        query = query.filter(occurred_at__lt=until)
    rows = await query.order_by("-sequence").limit(first + 1)
    return AuditEventPage(events=rows[:first], has_next_page=len(rows) > first)


async def audit_events_export(
    *, access: OrganizationAccess, since: datetime | None, until: datetime | None
) -> AsyncIterator[dict[str, Any]]:
    """Every event in the window, oldest first, as exported: the canonical event with
    `previousHash` and `hash`. Reads `CHUNK` events at a time."""
    access.demand(Permission.VIEW_AUDIT_LOG)
    organization_id = access.organization.id
    after = -1
    while True:
        query = AuditEvent.filter(organization_id=organization_id, sequence__gt=after)
        if since is not None:
            query = query.filter(occurred_at__gte=since)
        if until is not None:
            query = query.filter(occurred_at__lt=until)
        chunk = await query.order_by("sequence").limit(CHUNK)
        for event in chunk:
            yield {
                **canonical_event(event),
                "previousHash": event.previous_hash,
                "hash": event.hash,
            }
        if len(chunk) < CHUNK:
            return
        after = int(chunk[-1].sequence)


@dataclass(frozen=True)
class ChainCheck:
    """The verdict on one organization's chain: `ok`, how many events were checked, and where
    it breaks (the sequence number and why)."""

    ok: bool
    checked: int
    broken_at: int | None = None
    reason: str | None = None


async def audit_chain_verify(*, organization_id: uuid.UUID) -> ChainCheck:
    """Recompute the organization's chain from its anchor (64 zeros, or the hash of the last
    event the retention purge removed) to its head."""
    head = await AuditChain.get_or_none(organization_id=organization_id)
    if head is None:
        return ChainCheck(ok=True, checked=0)
    expected_sequence, previous = int(head.anchor_sequence), head.anchor_hash
    checked = 0
    while True:
        chunk = (
            await AuditEvent.filter(organization_id=organization_id, sequence__gt=expected_sequence)
            .order_by("sequence")
            .limit(CHUNK)
        )
        for event in chunk:
            expected_sequence += 1
            if event.sequence != expected_sequence:
                return ChainCheck(False, checked, expected_sequence, "an event is missing")
            if event.previous_hash != previous:
                return ChainCheck(False, checked, expected_sequence, "previousHash does not match")
            if chain_hash(previous, canonical_event(event)) != event.hash:
                return ChainCheck(False, checked, expected_sequence, "the event was altered")
            previous = event.hash
            checked += 1
        if len(chunk) < CHUNK:
            break
    if expected_sequence != head.head_sequence or previous != head.head_hash:
        return ChainCheck(False, checked, expected_sequence + 1, "events after it are missing")
    return ChainCheck(ok=True, checked=checked)


async def audit_events_purge(*, now: datetime, retention_days: int) -> int:
    """Remove events older than `retention_days` (and the other logs' rows as old), moving each
    chain's anchor to the last removed event. Returns how many audit events were removed."""
    if retention_days < 1:
        raise ValueError("retention_days must be at least 1")
    cutoff = now - timedelta(days=retention_days)
    removed = 0
    # Per organization, everything up to the newest old event: sequences stay contiguous even
    # when two concurrent changes took their `now` a little out of order.
    ends = (
        await AuditEvent.filter(occurred_at__lt=cutoff)
        .group_by("organization_id")
        .annotate(last=Max("sequence"))
        .values("organization_id", "last")
    )
    for end in ends:
        organization_id, last = end["organization_id"], int(end["last"])
        while True:
            async with in_transaction():
                ids = (
                    await AuditEvent.filter(organization_id=organization_id, sequence__lte=last)
                    .order_by("sequence")
                    .limit(PURGE_BATCH)
                    .values_list("id", "sequence", "hash")
                )
                if not ids:
                    break
                await AuditEvent.filter(id__in=[row[0] for row in ids]).delete()
                _, sequence, anchor = ids[-1]
                await AuditChain.filter(
                    organization_id=organization_id, anchor_sequence__lt=sequence
                ).update(anchor_sequence=sequence, anchor_hash=anchor)
                removed += len(ids)
    await SecurityEvent.filter(occurred_at__lt=cutoff).delete()
    await KeyUsage.filter(hour__lt=cutoff).delete()
    await tombstones_purge(now=now, retention_days=retention_days)
    return removed


__all__ = ["GENESIS_HASH", "audit_chain_verify", "audit_events_export", "audit_events_list"]
