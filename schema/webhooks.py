"""Webhooks in GraphQL: `WebhookEndpoint`, `WebhookDelivery`, the errors of the webhook
mutations, and the resolver of `Organization.webhookEndpoints` (OWNER and ADMIN)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

import strawberry

from models import webhooks
from models.access import (
    OrganizationAccess,
    Permission,
    webhook_delivery_access,
    webhook_endpoint_access,
)
from models.errors import InvalidInput
from models.webhook_entities import WebhookDelivery as DeliveryRow
from models.webhook_entities import WebhookDeliveryStatus
from models.webhook_entities import WebhookEndpoint as EndpointRow
from schema.connection import Connection, connection, decode_cursor
from schema.context import Info
from schema.errors import BadUserInput, Error

DELIVERIES = "webhook-deliveries"

strawberry.enum(
    WebhookDeliveryStatus, description="Where one event's delivery to one endpoint stands."
)
_STATUS = {
    WebhookDeliveryStatus.PENDING: "Not delivered yet: an attempt is due at `nextAttemptAt` "
    "(it waits while the endpoint is disabled).",
    WebhookDeliveryStatus.SUCCEEDED: "The endpoint answered 2xx.",
    WebhookDeliveryStatus.FAILED: "Given up: every retry failed, or this attempt disabled the "
    "endpoint (410 Gone, or five days of failures). retryWebhookDelivery tries once more.",
}
for _value in WebhookDeliveryStatus.__strawberry_definition__.values:  # type: ignore[attr-defined]
    _value.description = _STATUS[WebhookDeliveryStatus[_value.name]]


@strawberry.type(description="One event on its way to one endpoint, with its attempts so far.")
class WebhookDelivery:
    id: strawberry.ID = strawberry.field(description="The delivery's id (for retrying it).")
    event_id: strawberry.ID = strawberry.field(
        description="The event's id: the `webhook-id` header, the same on every retry and for "
        "every endpoint. Receivers dedupe on it."
    )
    event_type: str = strawberry.field(description="The event's type, e.g. `api_key.rolled`.")
    status: WebhookDeliveryStatus = strawberry.field(description="Where the delivery stands.")
    attempts: int = strawberry.field(description="How many attempts were made.")
    last_attempt_at: datetime | None = strawberry.field(
        description="When the last attempt was made; null before the first."
    )
    next_attempt_at: datetime | None = strawberry.field(
        description="When the next attempt is due; null once SUCCEEDED or FAILED."
    )
    last_response_status: int | None = strawberry.field(
        description="The HTTP status the endpoint last answered; null when it did not answer "
        "(a timeout, a refused connection, the SSRF guard)."
    )
    last_error: str | None = strawberry.field(
        description="Why the last attempt failed, in words; null after a success."
    )

    @classmethod
    def from_model(cls, row: DeliveryRow) -> WebhookDelivery:
        pending = row.status is WebhookDeliveryStatus.PENDING
        return cls(
            id=strawberry.ID(str(row.id)),
            event_id=strawberry.ID(row.event_id),
            event_type=row.event_type,
            status=row.status,
            attempts=row.attempts,
            last_attempt_at=row.last_attempt_at,
            next_attempt_at=row.next_attempt_at if pending else None,
            last_response_status=row.last_response_status,
            last_error=row.last_error,
        )


@strawberry.type(
    description="A URL that receives the organization's events, signed as Standard Webhooks "
    "says. Its secret is shown only when it is made or rotated."
)
class WebhookEndpoint:
    id: strawberry.ID = strawberry.field(description="The endpoint's id.")
    url: str = strawberry.field(description="Where events are POSTed (https).")
    events: list[str] = strawberry.field(
        description="The event types it receives (`api_key.created`, …), or `*` for all."
    )
    enabled: bool = strawberry.field(
        description="Whether events go out to it; false after 410 Gone, five days of failures, "
        "or updateWebhookEndpoint."
    )
    disabled_reason: str | None = strawberry.field(
        description="Why it was disabled; null while enabled."
    )
    created_at: datetime = strawberry.field(description="When it was registered.")
    access: strawberry.Private[OrganizationAccess]
    row_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, row: EndpointRow, access: OrganizationAccess) -> WebhookEndpoint:
        return cls(
            id=strawberry.ID(str(row.id)),
            url=row.url,
            events=list(row.events),
            enabled=row.enabled,
            disabled_reason=row.disabled_reason,
            created_at=row.created_at,
            access=access,
            row_id=row.id,
        )

    @strawberry.field(
        description="Its deliveries, newest first, a page at a time (a Relay connection)."
    )
    async def deliveries(
        self,
        first: Annotated[
            int, strawberry.argument(description="How many deliveries: 0 to 100.")
        ] = 20,
        after: Annotated[
            str | None,
            strawberry.argument(description="Only deliveries after this cursor (an edge's)."),
        ] = None,
    ) -> Connection[WebhookDelivery]:
        position = None if after is None else decode_cursor(DELIVERIES, after, "after")
        try:
            page = await webhooks.webhook_delivery_page(
                access=self.access, endpoint_id=self.row_id, first=first, after=position
            )
        except InvalidInput as error:
            raise BadUserInput(error.message, field=error.field) from None
        return connection(
            DELIVERIES, page, lambda row: (row.created_at, row.id), WebhookDelivery.from_model
        )


async def organization_webhook_endpoints(root: Any, info: Info) -> list[WebhookEndpoint]:
    root.access.demand(Permission.MANAGE_WEBHOOKS)
    rows = await webhooks.webhook_endpoint_list(access=root.access)
    return [WebhookEndpoint.from_model(row, root.access) for row in rows]


@strawberry.type(
    description="No such webhook endpoint among those the caller may see (another "
    "organization's is answered the same way)."
)
class WebhookEndpointNotFound(Error):
    pass


@strawberry.type(
    description="No such webhook delivery among those the caller may see (another "
    "organization's is answered the same way)."
)
class WebhookDeliveryNotFound(Error):
    pass


@strawberry.type(description="The organization has 10 webhook endpoints already: the most.")
class TooManyWebhookEndpoints(Error):
    pass


def _parse(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


async def endpoint_named(info: Info, id: str) -> tuple[OrganizationAccess, EndpointRow] | None:
    """The endpoint `id` names, with the caller's MANAGE_WEBHOOKS access; None when it names
    none the caller can see (answered as WebhookEndpointNotFound)."""
    endpoint_id = _parse(id)
    principal = info.context.require_principal()
    if endpoint_id is None:
        return None
    return await webhook_endpoint_access(principal, endpoint_id, Permission.MANAGE_WEBHOOKS)


async def delivery_named(info: Info, id: str) -> tuple[OrganizationAccess, DeliveryRow] | None:
    """The delivery `id` names, like `endpoint_named`."""
    delivery_id = _parse(id)
    principal = info.context.require_principal()
    if delivery_id is None:
        return None
    return await webhook_delivery_access(principal, delivery_id, Permission.MANAGE_WEBHOOKS)
