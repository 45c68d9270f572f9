"""updateWebhookEndpoint: change an endpoint's URL, events, or whether it is enabled."""

from __future__ import annotations

from typing import Annotated

import strawberry

from models import errors, webhooks
from schema.context import Info
from schema.errors import InvalidInput, invalid_input
from schema.webhooks import WebhookEndpoint, WebhookEndpointNotFound, endpoint_named


@strawberry.input(description="The endpoint and what to change; a null field stays as it is.")
class UpdateWebhookEndpointInput:
    id: strawberry.ID = strawberry.field(description="The endpoint.")
    url: str | None = strawberry.field(default=None, description="A new URL.")
    events: list[str] | None = strawberry.field(
        default=None, description='The new list of event types, or `["*"]` for all.'
    )
    enabled: bool | None = strawberry.field(
        default=None,
        description="false stops sending; true sends again (and clears `disabledReason`).",
    )


@strawberry.type(description="The endpoint is changed.")
class WebhookEndpointUpdated:
    endpoint: WebhookEndpoint = strawberry.field(description="The endpoint as it is now.")


UpdateWebhookEndpointResult = Annotated[
    WebhookEndpointUpdated | InvalidInput | WebhookEndpointNotFound,
    strawberry.union("UpdateWebhookEndpointResult", description="What updateWebhookEndpoint did."),
]


async def update_webhook_endpoint(
    info: Info,
    input: Annotated[
        UpdateWebhookEndpointInput, strawberry.argument(description="The endpoint and changes.")
    ],
) -> UpdateWebhookEndpointResult:
    found = await endpoint_named(info, input.id)
    if found is None:
        return WebhookEndpointNotFound(message=webhooks.WebhookEndpointNotFound.message)
    access, endpoint = found
    try:
        endpoint = await webhooks.webhook_endpoint_update(
            access=access,
            endpoint=endpoint,
            url=input.url,
            events=input.events,
            enabled=input.enabled,
            now=info.context.now,
            policy=info.context.policies.webhooks,
            context=info.context.request,
        )
    except errors.InvalidInput as error:
        return invalid_input(error)
    except webhooks.WebhookEndpointNotFound as error:
        return WebhookEndpointNotFound(message=error.message)
    return WebhookEndpointUpdated(endpoint=WebhookEndpoint.from_model(endpoint, access))
