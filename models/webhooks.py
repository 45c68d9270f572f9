"""Webhook endpoints: register, change, delete, rotate the secret, send a test event; list and
retry deliveries. Each takes an access object from `models.access` (MANAGE_WEBHOOKS: OWNER and
ADMIN) and writes its audit event in its own transaction.

The signing secret (`whsec_` + base64 of 32 random bytes) exists in the response that made it
and in the endpoint's row, which needs it to sign; it never reaches a log, an error or an audit
event. A rotation keeps the previous secret signing beside the new one for 24 hours, so
receivers can switch over without losing a message.
"""

from __future__ import annotations

import base64
import secrets
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models.access import OrganizationAccess, Permission
from models.audit import Target, actor_of, audit_record
from models.errors import DomainError, InvalidInput, NotFound, Problems
from models.events import ALL_EVENTS, EVENT_TYPES, TEST_EVENT, deliveries_create
from models.pagination import Page
from models.policies import WebhookPolicy
from models.request_context import NO_REQUEST, RequestContext
from models.webhook_entities import WebhookDelivery, WebhookDeliveryStatus, WebhookEndpoint
from models.webhook_guard import webhook_url_check

MAX_ENDPOINTS_PER_ORGANIZATION = 10
SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # Standard Webhooks asks for at least 24
ROTATION_OVERLAP = timedelta(hours=24)
MAX_DELIVERY_PAGE = 100


class WebhookEndpointNotFound(NotFound):
    message = "No such webhook endpoint."


class WebhookDeliveryNotFound(NotFound):
    message = "No such webhook delivery."


class TooManyWebhookEndpoints(DomainError):
    message = (
        f"An organization may have at most {MAX_ENDPOINTS_PER_ORGANIZATION} webhook endpoints: "
        "delete one first."
    )


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def clean_events(events: Sequence[str]) -> list[str]:
    """The subscribed types, de-duplicated in the order given; `InvalidInput` on `events`."""
    if not events:
        raise InvalidInput("events", "Choose at least one event, or `*` for all of them.")
    unknown = [e for e in events if e != ALL_EVENTS and e not in EVENT_TYPES]
    if unknown:
        raise InvalidInput(
            "events",
            f"Unknown event {unknown[0][:64]!r}: choose from {', '.join(EVENT_TYPES)}, or `*`.",
        )
    return list(dict.fromkeys(events))


def _target(endpoint: WebhookEndpoint) -> Target:
    return Target("webhook_endpoint", str(endpoint.id), endpoint.url[:300])


async def _record(
    access: OrganizationAccess,
    action: str,
    endpoint: WebhookEndpoint,
    details: dict[str, Any] | None,
    context: RequestContext,
    now: datetime,
) -> None:
    await audit_record(
        organization_id=access.organization.id,
        action=action,
        actor=await actor_of(access.principal),
        target=_target(endpoint),
        details=details,
        context=context,
        now=now,
    )


async def webhook_endpoint_create(
    *,
    access: OrganizationAccess,
    url: str,
    events: Sequence[str],
    now: datetime,
    policy: WebhookPolicy,
    context: RequestContext = NO_REQUEST,
) -> tuple[WebhookEndpoint, str]:
    """A new enabled endpoint and its secret (shown this once). Every bad field is reported at
    once; a URL the SSRF guard refuses is `InvalidInput` on `url`. At most
    MAX_ENDPOINTS_PER_ORGANIZATION per organization (`TooManyWebhookEndpoints`)."""
    access.demand(Permission.MANAGE_WEBHOOKS)
    problems = Problems()
    try:
        url = await webhook_url_check(url, policy)
    except InvalidInput as error:
        problems.catch(error)
    try:
        events = clean_events(events)
    except InvalidInput as error:
        problems.catch(error)
    problems.check()
    secret = new_secret()
    endpoint = WebhookEndpoint(
        id=uuid.uuid4(),
        organization_id=access.organization.id,
        url=url,
        events=list(events),
        enabled=True,
        secret=secret,
        created_at=now,
    )
    async with in_transaction():
        # Counted inside the transaction that inserts: the audit append below serializes the
        # organization's changes, so two creations cannot both pass at the limit on PostgreSQL.
        await _record(
            access, "webhook_endpoint.created", endpoint, {"events": events}, context, now
        )
        count = await WebhookEndpoint.filter(organization_id=access.organization.id).count()
        if count >= MAX_ENDPOINTS_PER_ORGANIZATION:
            raise TooManyWebhookEndpoints()
        await endpoint.save(force_create=True)
    return endpoint, secret


async def webhook_endpoint_update(
    *,
    access: OrganizationAccess,
    endpoint: WebhookEndpoint,
    url: str | None,
    events: Sequence[str] | None,
    enabled: bool | None,
    now: datetime,
    policy: WebhookPolicy,
    context: RequestContext = NO_REQUEST,
) -> WebhookEndpoint:
    """Change what is given (a null field stays). Enabling an endpoint clears its
    `disabledReason` and its failure streak; its deliveries that were waiting go out again."""
    access.demand(Permission.MANAGE_WEBHOOKS)
    problems = Problems()
    changes: dict[str, Any] = {}
    if url is not None:
        try:
            changes["url"] = await webhook_url_check(url, policy)
        except InvalidInput as error:
            problems.catch(error)
    if events is not None:
        try:
            changes["events"] = clean_events(events)
        except InvalidInput as error:
            problems.catch(error)
    problems.check()
    if enabled is not None:
        changes["enabled"] = enabled
        if enabled:
            changes["disabled_reason"] = None
            changes["failing_since"] = None
        else:
            changes["disabled_reason"] = "Disabled by a member."
    async with in_transaction():
        if changes:
            found = await WebhookEndpoint.filter(
                id=endpoint.id, organization_id=access.organization.id
            ).update(**changes)
            if found == 0:
                raise WebhookEndpointNotFound()
        shown = {k: v for k, v in changes.items() if k in ("url", "events", "enabled")}
        await _record(access, "webhook_endpoint.updated", endpoint, shown, context, now)
    for name, value in changes.items():
        setattr(endpoint, name, value)
    return endpoint


async def webhook_endpoint_delete(
    *,
    access: OrganizationAccess,
    endpoint: WebhookEndpoint,
    now: datetime,
    context: RequestContext = NO_REQUEST,
) -> uuid.UUID:
    """Delete the endpoint and its deliveries: nothing more is sent to it."""
    access.demand(Permission.MANAGE_WEBHOOKS)
    async with in_transaction():
        scope = WebhookEndpoint.filter(id=endpoint.id, organization_id=access.organization.id)
        if await scope.delete() == 0:
            raise WebhookEndpointNotFound()
        await _record(access, "webhook_endpoint.deleted", endpoint, None, context, now)
    return endpoint.id


async def webhook_secret_rotate(
    *,
    access: OrganizationAccess,
    endpoint: WebhookEndpoint,
    now: datetime,
    context: RequestContext = NO_REQUEST,
) -> tuple[WebhookEndpoint, str]:
    """A new secret (shown this once); the current one keeps signing beside it for 24 hours
    (a secret older than that is dropped at once)."""
    access.demand(Permission.MANAGE_WEBHOOKS)
    secret = new_secret()
    until = now + ROTATION_OVERLAP
    async with in_transaction():
        found = await WebhookEndpoint.filter(
            id=endpoint.id, organization_id=access.organization.id, secret=endpoint.secret
        ).update(secret=secret, previous_secret=endpoint.secret, previous_secret_until=until)
        if found == 0:
            raise WebhookEndpointNotFound()
        details = {"previousSecretSignsUntil": until.isoformat()}
        await _record(access, "webhook_endpoint.secret_rotated", endpoint, details, context, now)
    endpoint.previous_secret, endpoint.previous_secret_until = endpoint.secret, until
    endpoint.secret = secret
    return endpoint, secret


async def webhook_test_send(
    *,
    access: OrganizationAccess,
    endpoint: WebhookEndpoint,
    now: datetime,
    context: RequestContext = NO_REQUEST,
) -> WebhookDelivery:
    """Queue a `webhook.test` event to this endpoint alone, due now (whatever it subscribes
    to, and even while it is disabled: the worker skips a disabled endpoint's deliveries)."""
    access.demand(Permission.MANAGE_WEBHOOKS)
    async with in_transaction():
        await _record(access, "webhook_endpoint.tested", endpoint, None, context, now)
        [delivery] = await deliveries_create(
            organization_id=access.organization.id,
            endpoint_ids=[endpoint.id],
            type=TEST_EVENT,
            data={
                "organizationId": str(access.organization.id),
                "endpointId": str(endpoint.id),
                "message": "A test event from keyward.",
            },
            now=now,
        )
    return delivery


async def webhook_delivery_retry(
    *,
    access: OrganizationAccess,
    delivery: WebhookDelivery,
    now: datetime,
    context: RequestContext = NO_REQUEST,
) -> WebhookDelivery:
    """Make the delivery due now, one more attempt (a SUCCEEDED one is sent again: the receiver
    dedupes on `webhook-id`)."""
    access.demand(Permission.MANAGE_WEBHOOKS)
    async with in_transaction():
        found = await WebhookDelivery.filter(
            id=delivery.id, organization_id=access.organization.id
        ).update(status=WebhookDeliveryStatus.PENDING, next_attempt_at=now)
        if found == 0:
            raise WebhookDeliveryNotFound()
        await audit_record(
            organization_id=access.organization.id,
            action="webhook_delivery.retried",
            actor=await actor_of(access.principal),
            target=Target("webhook_delivery", str(delivery.id), delivery.event_type),
            details={"endpointId": str(delivery.endpoint_id), "eventId": delivery.event_id},
            context=context,
            now=now,
        )
    delivery.status, delivery.next_attempt_at = WebhookDeliveryStatus.PENDING, now
    return delivery


async def webhook_endpoint_list(*, access: OrganizationAccess) -> list[WebhookEndpoint]:
    """The organization's endpoints, oldest first."""
    access.demand(Permission.MANAGE_WEBHOOKS)
    return list(
        await WebhookEndpoint.filter(organization_id=access.organization.id).order_by(
            "created_at", "id"
        )
    )


async def webhook_delivery_page(
    *,
    access: OrganizationAccess,
    endpoint_id: uuid.UUID,
    first: int,
    after: tuple[datetime, uuid.UUID] | None,
) -> Page[WebhookDelivery]:
    """One page of an endpoint's deliveries, newest first, after the position `after`
    (created_at, id)."""
    access.demand(Permission.MANAGE_WEBHOOKS)
    if not 0 <= first <= MAX_DELIVERY_PAGE:
        raise InvalidInput("first", f"`first` must lie between 0 and {MAX_DELIVERY_PAGE}.")
    scope = WebhookDelivery.filter(endpoint_id=endpoint_id, organization_id=access.organization.id)
    total = await scope.count()
    query = scope
    if after is not None:
        moment, item = after
        query = query.filter(Q(created_at__lt=moment) | Q(created_at=moment, id__lt=item))
    rows = list(await query.order_by("-created_at", "-id").limit(first + 1))
    return Page(rows[:first], after is not None, len(rows) > first, total)
