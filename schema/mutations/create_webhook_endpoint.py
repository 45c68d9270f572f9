"""createWebhookEndpoint: a URL that hears the organization's events; its secret is in this
response and never again."""

from __future__ import annotations

from typing import Annotated

import strawberry

from models import errors, webhooks
from models.access import Permission
from schema.context import Info
from schema.errors import InvalidInput, OrganizationNotFound, invalid_input
from schema.types import organization_named
from schema.webhooks import TooManyWebhookEndpoints, WebhookEndpoint


@strawberry.input(description="A new webhook endpoint.")
class CreateWebhookEndpointInput:
    organization_id: strawberry.ID = strawberry.field(description="The organization.")
    url: str = strawberry.field(
        description="Where to POST events: https, on a public address (see the README's SSRF "
        "guard)."
    )
    events: list[str] = strawberry.field(
        description='The event types to receive (`api_key.created`, …), or `["*"]` for all.'
    )


@strawberry.type(description="The endpoint exists and receives events from now on.")
class WebhookEndpointCreated:
    endpoint: WebhookEndpoint = strawberry.field(description="The new endpoint.")
    secret: str = strawberry.field(
        description="The signing secret (`whsec_…`), shown here only: store it now."
    )


CreateWebhookEndpointResult = Annotated[
    WebhookEndpointCreated | InvalidInput | OrganizationNotFound | TooManyWebhookEndpoints,
    strawberry.union("CreateWebhookEndpointResult", description="What createWebhookEndpoint did."),
]


async def create_webhook_endpoint(
    info: Info,
    input: Annotated[
        CreateWebhookEndpointInput, strawberry.argument(description="The new endpoint.")
    ],
) -> CreateWebhookEndpointResult:
    access = await organization_named(info, input.organization_id, Permission.MANAGE_WEBHOOKS)
    if access is None:
        return OrganizationNotFound(message=errors.OrganizationNotFound.message)
    try:
        endpoint, secret = await webhooks.webhook_endpoint_create(
            access=access,
            url=input.url,
            events=input.events,
            now=info.context.now,
            policy=info.context.policies.webhooks,
            context=info.context.request,
        )
    except errors.InvalidInput as error:
        return invalid_input(error)
    except webhooks.TooManyWebhookEndpoints as error:
        return TooManyWebhookEndpoints(message=error.message)
    return WebhookEndpointCreated(
        endpoint=WebhookEndpoint.from_model(endpoint, access), secret=secret
    )
