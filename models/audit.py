"""The audit log: one event per change to an organization, appended to that organization's hash
chain **inside the change's own transaction**, so a change without its event (or an event without
its change) cannot exist.

Each event's `hash` is SHA-256 of the previous event's hash (64 zeros before the first, or the
retention anchor) followed by the event's canonical JSON (`canonical_event`): sorted keys, no
spaces, UTF-8. An exported log (oldest first, with `previousHash` and `hash` on each line)
therefore proves it is complete and unaltered, and anyone can check it in ten lines.

Appends to one chain are serialized: on PostgreSQL by a transaction-level advisory lock on the
organization, on SQLite by its one write lock (the change has already written, so the transaction
holds it). The chain's head (last sequence, last hash) lives in `audit_chain`.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient, TransactionalDBClient

from models.access import KeyPrincipal, Principal
from models.audit_entities import AuditEvent
from models.entities import ApiKey, User
from models.event_ids import new_event_id
from models.events import events_from_audit
from models.request_context import RequestContext
from models.sql import is_sqlite, numbered

GENESIS_HASH = "0" * 64
# Advisory locks of the two-integer form live apart from the one-integer ones (the migrator's).
_LOCK_NAMESPACE = 0x6B657977  # "keyw"


class ActorType(StrEnum):
    USER = "USER"
    API_KEY = "API_KEY"
    SYSTEM = "SYSTEM"
    GITHUB = "GITHUB"  # GitHub's secret scanning, reporting a leaked key
    REPORTER = "REPORTER"  # anyone, through POST /v1/keys/report-leak


@dataclass(frozen=True, slots=True)
class Actor:
    """Who made a change: a user (their email), an API key (its name and start), the system
    (the jobs, and the Default API Key made with a new organization), or whoever reported a
    leaked key (GitHub, or an anonymous reporter)."""

    type: ActorType
    id: str | None = None
    name: str | None = None


SYSTEM = Actor(ActorType.SYSTEM, None, "keyward")


@dataclass(frozen=True, slots=True)
class Target:
    type: str  # "organization", "api_key", "member", "invitation"
    id: str
    name: str | None = None


@dataclass(frozen=True, slots=True)
class EventDraft:
    """An event before it has its place in the chain."""

    action: str
    actor: Actor
    target: Target | None
    details: dict[str, Any] | None
    context: RequestContext
    now: datetime


async def actor_of(principal: Principal) -> Actor:
    """The actor behind a principal, named as the log shows it."""
    if isinstance(principal, KeyPrincipal):
        rows = await ApiKey.filter(id=principal.key_id).values("name", "start")
        name = f"{rows[0]['name']} ({rows[0]['start']})" if rows else None
        return Actor(ActorType.API_KEY, str(principal.key_id), name)
    emails = await User.filter(id=principal.user_id).values_list("email", flat=True)
    return Actor(ActorType.USER, str(principal.user_id), str(emails[0]) if emails else None)


def key_target(key_id: uuid.UUID, name: str) -> Target:
    """A key as an event's target: its name; its `start` goes in the event's details."""
    return Target("api_key", str(key_id), name)


def moment_text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def canonical_event(event: AuditEvent) -> dict[str, Any]:
    """The event as it is hashed and exported (without `previousHash` and `hash`)."""
    target = (
        None
        if event.target_type is None
        else {"type": event.target_type, "id": event.target_id, "name": event.target_name}
    )
    return {
        "id": event.id,
        "organizationId": str(event.organization_id),
        "sequence": int(event.sequence),
        "occurredAt": moment_text(event.occurred_at),
        "action": event.action,
        "actor": {"type": event.actor_type, "id": event.actor_id, "name": event.actor_name},
        "target": target,
        "details": event.details,
        "clientAddress": event.client_address,
        "userAgent": event.user_agent,
        "requestId": event.request_id,
    }


def chain_hash(previous_hash: str, event: dict[str, Any]) -> str:
    body = json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((previous_hash + body).encode()).hexdigest()


def _lock_key(organization_id: uuid.UUID) -> int:
    return int.from_bytes(organization_id.bytes[:4], "big", signed=True)


async def _claim_head(db: BaseDBAsyncClient, organization_id: uuid.UUID) -> tuple[int, str]:
    """Serialize appends to the chain and return its head (sequence, hash)."""
    org = str(organization_id) if is_sqlite(db) else organization_id
    if not is_sqlite(db):
        await db.execute_query(
            "SELECT pg_advisory_xact_lock($1, $2)", [_LOCK_NAMESPACE, _lock_key(organization_id)]
        )
    insert = (
        "INSERT INTO audit_chain (organization_id, head_sequence, head_hash, anchor_sequence,"
        " anchor_hash) VALUES (?, 0, ?, 0, ?) ON CONFLICT (organization_id) DO NOTHING"
    )
    select = "SELECT head_sequence, head_hash FROM audit_chain WHERE organization_id = ?"
    if not is_sqlite(db):
        insert, select = numbered(insert), numbered(select)
    await db.execute_query(insert, [org, GENESIS_HASH, GENESIS_HASH])
    _, rows = await db.execute_query(select, [org])
    return int(rows[0][0]), str(rows[0][1])


async def _advance_head(
    db: BaseDBAsyncClient, organization_id: uuid.UUID, sequence: int, head_hash: str
) -> None:
    update = "UPDATE audit_chain SET head_sequence = ?, head_hash = ? WHERE organization_id = ?"
    if is_sqlite(db):
        await db.execute_query(update, [sequence, head_hash, str(organization_id)])
    else:
        await db.execute_query(numbered(update), [sequence, head_hash, organization_id])


def _transaction() -> BaseDBAsyncClient:
    db = AuditEvent._meta.db
    if not isinstance(db, TransactionalDBClient):
        raise RuntimeError("audit events are recorded inside the transaction of their change")
    return db


async def audit_append(organization_id: uuid.UUID, drafts: Sequence[EventDraft]) -> list[str]:
    """Append `drafts` to the organization's chain, in order, inside the caller's transaction;
    returns their ids."""
    if not drafts:
        return []
    db = _transaction()
    sequence, previous = await _claim_head(db, organization_id)
    events = []
    for draft in drafts:
        sequence += 1
        target = draft.target
        event = AuditEvent(
            id=new_event_id(draft.now),
            organization_id=organization_id,
            sequence=sequence,
            occurred_at=draft.now,
            action=draft.action,
            actor_type=draft.actor.type.value,
            actor_id=draft.actor.id,
            actor_name=draft.actor.name and draft.actor.name[:300],
            target_type=None if target is None else target.type,
            target_id=None if target is None else target.id,
            target_name=None if target is None or target.name is None else target.name[:300],
            details=draft.details,
            client_address=draft.context.client_address,
            user_agent=draft.context.user_agent,
            request_id=draft.context.request_id,
            previous_hash=previous,
        )
        event.hash = previous = chain_hash(previous, canonical_event(event))
        events.append(event)
    await AuditEvent.bulk_create(events, using_db=db)
    await _advance_head(db, organization_id, sequence, previous)
    ids = [event.id for event in events]
    # The changes an organization's webhooks hear of leave in this same transaction.
    await events_from_audit(organization_id, drafts, ids)
    return ids


async def audit_record(
    *,
    organization_id: uuid.UUID,
    action: str,
    actor: Actor,
    target: Target | None,
    details: dict[str, Any] | None,
    context: RequestContext,
    now: datetime,
) -> str:
    """Record one change to an organization, inside the change's transaction (raises
    `RuntimeError` outside one). `details` is a small JSON object: never a token or a digest."""
    draft = EventDraft(action, actor, target, details, context, now)
    return (await audit_append(organization_id, [draft]))[0]
