"""rotateWebhookSecret: a new signing secret; the old one signs beside it for 24 hours."""

from __future__ import annotations

from typing import Annotated

import strawberry

from models import webhooks
from schema.context import Info
from schema.webhooks import WebhookEndpoint, WebhookEndpointNotFound, endpoint_named


@strawberry.input(description="The endpoint whose secret to rotate.")
class RotateWebhookSecretInput:
    id: strawberry.ID = strawberry.field(description="The endpoint.")


@strawberry.type(
    description="The endpoint has a new secret. For 24 hours every attempt carries two "
    "signatures, by the old secret and the new, so receivers can switch without a gap."
)
class WebhookSecretRotated:
    endpoint: WebhookEndpoint = strawberry.field(description="The endpoint.")
    secret: str = strawberry.field(
        description="The new signing secret (`whsec_…`), shown here only: store it now."
    )


RotateWebhookSecretResult = Annotated[
    WebhookSecretRotated | WebhookEndpointNotFound,
    strawberry.union("RotateWebhookSecretResult", description="What rotateWebhookSecret did."),
]


async def rotate_webhook_secret(
    info: Info,
    input: Annotated[RotateWebhookSecretInput, strawberry.argument(description="The endpoint.")],
) -> RotateWebhookSecretResult:
    found = await endpoint_named(info, input.id)
    if found is None:
        return WebhookEndpointNotFound(message=webhooks.WebhookEndpointNotFound.message)
    access, endpoint = found
    try:
        endpoint, secret = await webhooks.webhook_secret_rotate(
            access=access, endpoint=endpoint, now=info.context.now, context=info.context.request
        )
    except webhooks.WebhookEndpointNotFound as error:
        return WebhookEndpointNotFound(message=error.message)
    return WebhookSecretRotated(
        endpoint=WebhookEndpoint.from_model(endpoint, access), secret=secret
    )
