"""createApiKey: a new named key; its token is in this response and never again."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from models import errors
from models.access import Permission, organization_access
from models.api_keys import api_key_create
from models.entities import ApiKeyType
from schema.context import Info
from schema.errors import InvalidInput, OrganizationNotFound, invalid_field, invalid_input
from schema.types import ApiKey, parse_id


@strawberry.input
class CreateApiKeyInput:
    organization_id: strawberry.ID | None = strawberry.field(
        default=None, description="Required for a user; an API key may leave it out."
    )
    name: str
    type: ApiKeyType = ApiKeyType.SECRET
    expires_at: datetime | None = strawberry.field(
        default=None, description="When the key stops working; by default it never expires."
    )


@strawberry.type
class ApiKeyCreated:
    api_key: ApiKey
    token: str = strawberry.field(description="Shown once: store it now.")


CreateApiKeyResult = Annotated[
    ApiKeyCreated | InvalidInput | OrganizationNotFound, strawberry.union("CreateApiKeyResult")
]


async def create_api_key(info: Info, input: CreateApiKeyInput) -> CreateApiKeyResult:
    principal = info.context.require_principal()
    organization_id = None if input.organization_id is None else parse_id(input.organization_id)
    if input.organization_id is not None and organization_id is None:
        return OrganizationNotFound(message=errors.OrganizationNotFound.message)
    access = await organization_access(principal, organization_id, Permission.MANAGE_KEYS)
    if access is None:
        if input.organization_id is None:
            return invalid_field("organizationId", "Say which organization.")
        return OrganizationNotFound(message=errors.OrganizationNotFound.message)
    try:
        key, token = await api_key_create(
            access=access,
            name=input.name,
            type=input.type,
            expires_at=input.expires_at,
            now=info.context.now,
            policy=info.context.policies.keys,
            context=info.context.request,
        )
    except errors.InvalidInput as error:
        return invalid_input(error)
    return ApiKeyCreated(api_key=ApiKey.from_model(key), token=token)
