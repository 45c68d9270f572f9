"""retryWebhookDelivery: one more attempt of a delivery, due now."""

from __future__ import annotations

from typing import Annotated

import strawberry

from models import webhooks
from schema.context import Info
from schema.webhooks import WebhookDelivery, WebhookDeliveryNotFound, delivery_named


@strawberry.input(description="The delivery to try again.")
class RetryWebhookDeliveryInput:
    id: strawberry.ID = strawberry.field(description="The delivery.")


@strawberry.type(description="The delivery is PENDING again, due now.")
class WebhookDeliveryRetried:
    delivery: WebhookDelivery = strawberry.field(description="The delivery.")


RetryWebhookDeliveryResult = Annotated[
    WebhookDeliveryRetried | WebhookDeliveryNotFound,
    strawberry.union("RetryWebhookDeliveryResult", description="What retryWebhookDelivery did."),
]


async def retry_webhook_delivery(
    info: Info,
    input: Annotated[RetryWebhookDeliveryInput, strawberry.argument(description="The delivery.")],
) -> RetryWebhookDeliveryResult:
    found = await delivery_named(info, input.id)
    if found is None:
        return WebhookDeliveryNotFound(message=webhooks.WebhookDeliveryNotFound.message)
    access, delivery = found
    try:
        delivery = await webhooks.webhook_delivery_retry(
            access=access, delivery=delivery, now=info.context.now, context=info.context.request
        )
    except webhooks.WebhookDeliveryNotFound as error:
        return WebhookDeliveryNotFound(message=error.message)
    return WebhookDeliveryRetried(delivery=WebhookDelivery.from_model(delivery))
