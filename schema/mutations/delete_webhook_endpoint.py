"""deleteWebhookEndpoint: nothing more is sent to it; its deliveries go with it."""

from __future__ import annotations

from typing import Annotated

import strawberry

from models import webhooks
from schema.context import Info
from schema.webhooks import WebhookEndpointNotFound, endpoint_named


@strawberry.input(description="The endpoint to delete.")
class DeleteWebhookEndpointInput:
    id: strawberry.ID = strawberry.field(description="The endpoint.")


@strawberry.type(description="The endpoint is gone, with its deliveries.")
class WebhookEndpointDeleted:
    deleted_webhook_endpoint_id: strawberry.ID = strawberry.field(
        description="The deleted endpoint's id."
    )


DeleteWebhookEndpointResult = Annotated[
    WebhookEndpointDeleted | WebhookEndpointNotFound,
    strawberry.union("DeleteWebhookEndpointResult", description="What deleteWebhookEndpoint did."),
]


async def delete_webhook_endpoint(
    info: Info,
    input: Annotated[DeleteWebhookEndpointInput, strawberry.argument(description="The endpoint.")],
) -> DeleteWebhookEndpointResult:
    found = await endpoint_named(info, input.id)
    if found is None:
        return WebhookEndpointNotFound(message=webhooks.WebhookEndpointNotFound.message)
    access, endpoint = found
    try:
        deleted = await webhooks.webhook_endpoint_delete(
            access=access, endpoint=endpoint, now=info.context.now, context=info.context.request
        )
    except webhooks.WebhookEndpointNotFound as error:
        return WebhookEndpointNotFound(message=error.message)
    return WebhookEndpointDeleted(deleted_webhook_endpoint_id=strawberry.ID(str(deleted)))
