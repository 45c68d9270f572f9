"""sendTestWebhook: a `webhook.test` event to one endpoint, delivered like any other."""

from __future__ import annotations

from typing import Annotated

import strawberry

from models import webhooks
from schema.context import Info
from schema.webhooks import WebhookDelivery, WebhookEndpointNotFound, endpoint_named


@strawberry.input(description="The endpoint to send a test event to.")
class SendTestWebhookInput:
    id: strawberry.ID = strawberry.field(description="The endpoint.")


@strawberry.type(description="A `webhook.test` event is queued for the endpoint, due now.")
class TestWebhookSent:
    delivery: WebhookDelivery = strawberry.field(description="Its delivery, to follow.")


SendTestWebhookResult = Annotated[
    TestWebhookSent | WebhookEndpointNotFound,
    strawberry.union("SendTestWebhookResult", description="What sendTestWebhook did."),
]


async def send_test_webhook(
    info: Info,
    input: Annotated[SendTestWebhookInput, strawberry.argument(description="The endpoint.")],
) -> SendTestWebhookResult:
    found = await endpoint_named(info, input.id)
    if found is None:
        return WebhookEndpointNotFound(message=webhooks.WebhookEndpointNotFound.message)
    access, endpoint = found
    delivery = await webhooks.webhook_test_send(
        access=access, endpoint=endpoint, now=info.context.now, context=info.context.request
    )
    return TestWebhookSent(delivery=WebhookDelivery.from_model(delivery))
