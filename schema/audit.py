"""The audit log, the security log and verification analytics as GraphQL types, and the resolvers
that `Organization`, `ApiKey` and `User` mount (`schema.types`): thin adapters over
`models.audit_log`, `models.security_log`, `models.tombstones` and `models.usage_report`."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON

from models import audit_entities
from models.access import OrganizationAccess, UserPrincipal
from models.audit import ActorType
from models.audit_log import audit_events_list
from models.errors import InvalidInput
from models.key_verification import REPORTED
from models.security_log import security_events_list
from models.tombstones import revoked_key_uses_list
from models.usage_report import UsageBucketSize, key_usage_buckets
from schema.connection import MAX_CURSOR_CHARS, Edge, PageInfo, decode_cursor, encode_cursor
from schema.context import Info
from schema.enums import described
from schema.errors import BadUserInput
from schema.leaks import KeyLeak

DEFAULT_PAGE_SIZE = 50

described(
    UsageBucketSize,
    "How long each bucket of a usage series is: an hour or a (UTC) day.",
    {
        UsageBucketSize.HOUR: "One bucket per hour (UTC).",
        UsageBucketSize.DAY: "One bucket per day (UTC).",
    },
)


@strawberry.type(description="Who made a change.")
class AuditActor:
    type: ActorType = strawberry.field(description="A person, an API key, or keyward itself.")
    id: strawberry.ID | None = strawberry.field(description="The user's or the key's id.")
    name: str | None = strawberry.field(
        description="The user's email, or the key's name and start, at the time of the change."
    )


@strawberry.type(description="What a change was made to.")
class AuditTarget:
    type: str = strawberry.field(description="`organization`, `api_key`, `member` or `invitation`.")
    id: strawberry.ID = strawberry.field(description="The object's id.")
    name: str | None = strawberry.field(description="Its name at the time of the change.")


@strawberry.type(description="One change to an organization, as its audit log keeps it.")
class AuditEvent:
    id: strawberry.ID = strawberry.field(description="Sortable by time (ULID-like).")
    occurred_at: datetime = strawberry.field(description="When the change was made.")
    action: str = strawberry.field(
        description="What happened, dot-separated: `api_key.rolled`, `member.invited`, …"
    )
    actor: AuditActor = strawberry.field(description="Who made the change.")
    target: AuditTarget | None = strawberry.field(description="What the change was made to.")
    client_address: str | None = strawberry.field(
        description="The client's address (after the server's trusted proxies)."
    )
    user_agent: str | None = strawberry.field(
        description="The client's User-Agent, cut to 256 characters."
    )
    request_id: str | None = strawberry.field(
        description="The request's X-Request-Id, as echoed to the client."
    )
    details: JSON | None = strawberry.field(
        description="Facts of this kind of change, e.g. a roll's old and new key ids and grace "
        "end. Never a token."
    )
    hash: str = strawberry.field(
        description="SHA-256 of the previous event's hash and this event: the chain the export "
        "proves complete and unaltered with."
    )

    @classmethod
    def from_model(cls, event: audit_entities.AuditEvent) -> AuditEvent:
        target = None
        if event.target_type is not None and event.target_id is not None:
            target = AuditTarget(
                type=event.target_type, id=strawberry.ID(event.target_id), name=event.target_name
            )
        return cls(
            id=strawberry.ID(event.id),
            occurred_at=event.occurred_at,
            action=event.action,
            actor=AuditActor(
                type=ActorType(event.actor_type),
                id=None if event.actor_id is None else strawberry.ID(event.actor_id),
                name=event.actor_name,
            ),
            target=target,
            client_address=event.client_address,
            user_agent=event.user_agent,
            request_id=event.request_id,
            details=event.details,
            hash=event.hash,
        )


@strawberry.type(description="A page of the audit log, newest first.")
class AuditEventConnection:
    edges: list[Edge[AuditEvent]] = strawberry.field(description="The events of this page.")
    page_info: PageInfo = strawberry.field(description="Where this page ends.")


def _forward_page_info(edges: Sequence[Any], has_next_page: bool, after: str | None) -> PageInfo:
    """These logs page forward only (newest first, `first`/`after`): a page after a cursor has
    the cursor's item before it."""
    return PageInfo(
        has_next_page=has_next_page,
        has_previous_page=after is not None,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None,
    )


def _log_cursor(listing: str, value: str) -> str:
    return base64.urlsafe_b64encode(f"{listing}|{value}".encode()).decode().rstrip("=")


def _log_position(listing: str, cursor: str) -> str:
    """What a cursor of `listing` points at; BAD_USER_INPUT on `after` for any other string
    (a cursor of another list, or one edited by hand)."""
    try:
        if len(cursor) > MAX_CURSOR_CHARS:
            raise ValueError
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        name, value = raw.split("|")
        if name != listing or not value.isalnum():
            raise ValueError
        return value
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadUserInput(
            "The cursor `after` is not one this list gave out.", field="after"
        ) from None


def _audit_sequence(cursor: str) -> int:
    value = _log_position("auditEvents", cursor)
    if not value.isdigit():
        raise BadUserInput("The cursor `after` is not one this list gave out.", field="after")
    return int(value)


async def audit_events(
    root: strawberry.Parent[Any],
    first: Annotated[
        int | None, strawberry.argument(description="How many events, at most 100.")
    ] = DEFAULT_PAGE_SIZE,
    after: Annotated[
        str | None, strawberry.argument(description="The `endCursor` of the previous page.")
    ] = None,
    actions: Annotated[
        list[str] | None,
        strawberry.argument(description="Only these actions, e.g. `api_key.rolled`."),
    ] = None,
    actor_id: Annotated[
        strawberry.ID | None, strawberry.argument(description="Only changes by this user or key.")
    ] = None,
    target_id: Annotated[
        strawberry.ID | None, strawberry.argument(description="Only changes to this object.")
    ] = None,
    since: Annotated[
        datetime | None, strawberry.argument(description="Only changes at or after this time.")
    ] = None,
    until: Annotated[
        datetime | None, strawberry.argument(description="Only changes before this time.")
    ] = None,
) -> AuditEventConnection:
    access: OrganizationAccess = root.access
    try:
        page = await audit_events_list(
            access=access,
            first=DEFAULT_PAGE_SIZE if first is None else first,
            after=None if after is None else _audit_sequence(after),
            actions=actions,
            actor_id=actor_id,
            target_id=target_id,
            since=since,
            until=until,
        )
    except InvalidInput as error:
        raise BadUserInput(error.message, field=error.field) from None
    edges = [
        Edge(
            cursor=_log_cursor("auditEvents", str(event.sequence)),
            node=AuditEvent.from_model(event),
        )
        for event in page.events
    ]
    return AuditEventConnection(
        edges=edges,
        page_info=_forward_page_info(edges, page.has_next_page, after),
    )


@strawberry.type(description="A deleted or purged key that was still sent after its end.")
class RevokedKeyUse:
    key_id: strawberry.ID = strawberry.field(description="The deleted key's id.")
    name: str = strawberry.field(description="Its name when it was deleted.")
    start: str = strawberry.field(description="The start of its token, to recognise it by.")
    deleted_at: datetime = strawberry.field(description="When it was deleted or purged.")
    last_seen_at: datetime = strawberry.field(description="When it was last sent.")
    last_client_address: str | None = strawberry.field(
        description="The address that last sent it, as the resource server reported it "
        "(`clientIp` of the verify call); null when none was given."
    )
    count: int = strawberry.field(
        description="How often it was sent since `since` (by whole hours), or since deletion."
    )
    organization_id: strawberry.Private[uuid.UUID]

    @strawberry.field(
        description="Where the key was found in public, newest first: a key revoked because it "
        "leaked shows where here."
    )
    async def leaks(self, info: Info) -> list[KeyLeak]:
        return await info.context.leaks.load((self.organization_id, uuid.UUID(self.key_id)))


@strawberry.type(description="Deleted keys still being sent, most recently seen first.")
class RevokedKeyUseConnection:
    edges: list[Edge[RevokedKeyUse]] = strawberry.field(description="The keys of this page.")
    page_info: PageInfo = strawberry.field(description="Where this page ends.")


async def revoked_key_uses(
    root: strawberry.Parent[Any],
    info: Info,
    first: Annotated[
        int | None, strawberry.argument(description="How many keys, at most 100.")
    ] = DEFAULT_PAGE_SIZE,
    after: Annotated[
        str | None, strawberry.argument(description="The `endCursor` of the previous page.")
    ] = None,
    since: Annotated[
        datetime | None,
        strawberry.argument(description="Only keys sent since then, counting those uses only."),
    ] = None,
) -> RevokedKeyUseConnection:
    try:
        page = await revoked_key_uses_list(
            access=root.access,
            first=DEFAULT_PAGE_SIZE if first is None else first,
            after=None if after is None else decode_cursor("revokedKeyUses", after, "after"),
            since=since,
        )
    except InvalidInput as error:
        raise BadUserInput(error.message, field=error.field) from None
    edges = [
        Edge(
            cursor=encode_cursor("revokedKeyUses", (use.last_seen_at, use.key_id)),
            node=RevokedKeyUse(
                key_id=strawberry.ID(str(use.key_id)),
                name=use.name,
                start=use.start,
                deleted_at=use.deleted_at,
                last_seen_at=use.last_seen_at,
                last_client_address=use.last_client_address,
                count=use.count,
                organization_id=root.access.organization.id,
            ),
        )
        for use in page.uses
    ]
    return RevokedKeyUseConnection(
        edges=edges,
        page_info=_forward_page_info(edges, page.has_next_page, after),
    )


@strawberry.type(description="A key's verifications in one hour or day.")
class UsageBucket:
    start: datetime = strawberry.field(description="When the bucket begins (UTC).")
    valid: int = strawberry.field(
        description="Verifications that answered VALID (report-only denials included)."
    )
    expired: int = strawberry.field(description="Verifications that answered EXPIRED.")
    forbidden: int = strawberry.field(
        description="Verifications refused by the key's restrictions (FORBIDDEN)."
    )
    reported: int = strawberry.field(
        description="Verifications from outside the key's restrictions that REPORT_ONLY mode "
        "let through: what ENFORCE would refuse."
    )
    total: int = strawberry.field(description="All verifications of the key in the bucket.")


async def key_usage(
    root: strawberry.Parent[Any],
    info: Info,
    since: Annotated[
        datetime | None,
        strawberry.argument(
            description="From the bucket holding this time; by default 7 days before `until`."
        ),
    ] = None,
    until: Annotated[
        datetime | None,
        strawberry.argument(description="To the bucket holding this time; by default now."),
    ] = None,
    bucket: Annotated[
        UsageBucketSize, strawberry.argument(description="Hours or days.")
    ] = UsageBucketSize.HOUR,
) -> list[UsageBucket]:
    try:
        buckets = await key_usage_buckets(
            key_id=uuid.UUID(str(root.id)),
            organization_id=root.organization_id,
            since=since,
            until=until,
            size=bucket,
            now=info.context.now,
        )
    except InvalidInput as error:
        raise BadUserInput(error.message, field=error.field) from None
    return [
        UsageBucket(
            start=b.start,
            valid=b.counts.get("VALID", 0) + b.counts.get(REPORTED, 0),
            expired=b.counts.get("EXPIRED", 0),
            forbidden=b.counts.get("FORBIDDEN", 0),
            reported=b.counts.get(REPORTED, 0),
            total=b.total,
        )
        for b in buckets
    ]


@strawberry.type(description="One event of your own account: a sign-in, a sign-out, …")
class SecurityEvent:
    id: strawberry.ID = strawberry.field(description="Sortable by time (ULID-like).")
    occurred_at: datetime = strawberry.field(description="When it happened.")
    action: str = strawberry.field(
        description="`user.signed_up`, `user.signed_in`, `user.sign_in_failed`, "
        "`user.signed_out`, `session.ended`, `user.password_changed`, `user.password_reset`."
    )
    actor: AuditActor = strawberry.field(description="Who did it.")
    client_address: str | None = strawberry.field(description="The client's address.")
    user_agent: str | None = strawberry.field(description="The client's User-Agent.")
    request_id: str | None = strawberry.field(description="The request's X-Request-Id.")
    details: JSON | None = strawberry.field(description="Facts of this kind of event.")


@strawberry.type(description="A page of your security log, newest first.")
class SecurityEventConnection:
    edges: list[Edge[SecurityEvent]] = strawberry.field(description="The events of this page.")
    page_info: PageInfo = strawberry.field(description="Where this page ends.")


async def security_events(
    root: strawberry.Parent[Any],
    first: Annotated[
        int | None, strawberry.argument(description="How many events, at most 100.")
    ] = DEFAULT_PAGE_SIZE,
    after: Annotated[
        str | None, strawberry.argument(description="The `endCursor` of the previous page.")
    ] = None,
) -> SecurityEventConnection:
    principal: UserPrincipal = root.principal
    try:
        page = await security_events_list(
            user_id=principal.user_id,
            first=DEFAULT_PAGE_SIZE if first is None else first,
            after=None if after is None else _log_position("securityEvents", after),
        )
    except InvalidInput as error:
        raise BadUserInput(error.message, field=error.field) from None
    edges = [
        Edge(
            cursor=_log_cursor("securityEvents", event.id),
            node=SecurityEvent(
                id=strawberry.ID(event.id),
                occurred_at=event.occurred_at,
                action=event.action,
                actor=AuditActor(
                    type=ActorType(event.actor_type),
                    id=None if event.actor_id is None else strawberry.ID(event.actor_id),
                    name=event.actor_name,
                ),
                client_address=event.client_address,
                user_agent=event.user_agent,
                request_id=event.request_id,
                details=event.details,
            ),
        )
        for event in page.events
    ]
    return SecurityEventConnection(
        edges=edges,
        page_info=_forward_page_info(edges, page.has_next_page, after),
    )
