"""createApiKey: a new named key; its token is in this response and never again."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from models import errors
from models.access import Permission, organization_access
from models.api_keys import api_key_create
from models.entities import ApiKeyType
from models.restrictions import RestrictionMode
from schema.context import Info
from schema.errors import InvalidInput, OrganizationNotFound, invalid_field, invalid_input
from schema.types import ALLOWED_CIDRS_INPUT, ALLOWED_ORIGINS_INPUT, ApiKey, parse_id


@strawberry.input(description="A new key.")
class CreateApiKeyInput:
    organization_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The organization to create it in. Required for a user; an API key may "
        "leave it out to mean its own organization.",
    )
    name: str = strawberry.field(
        description="A name to recognise the key by, 1 to 100 characters (need not be unique)."
    )
    type: ApiKeyType = strawberry.field(
        default=ApiKeyType.SECRET, description="PUBLIC or SECRET; SECRET by default."
    )
    expires_at: datetime | None = strawberry.field(
        default=None,
        description="When the key stops working, in the future and with a UTC offset (ISO "
        "8601); by default it never expires.",
    )
    allowed_cidrs: list[str] | None = strawberry.field(
        default=None, description=ALLOWED_CIDRS_INPUT
    )
    allowed_origins: list[str] | None = strawberry.field(
        default=None, description=ALLOWED_ORIGINS_INPUT
    )
    restriction_mode: RestrictionMode = strawberry.field(
        default=RestrictionMode.ENFORCE,
        description="ENFORCE (the default) refuses callers outside the restrictions; "
        "REPORT_ONLY lets them through and records them.",
    )


@strawberry.type(description="The key exists and works from now on.")
class ApiKeyCreated:
    api_key: ApiKey = strawberry.field(description="The new key.")
    token: str = strawberry.field(
        description="The key's full token. For a SECRET key it is shown here only: store it "
        "now; keyward keeps only its digest."
    )


CreateApiKeyResult = Annotated[
    ApiKeyCreated | InvalidInput | OrganizationNotFound,
    strawberry.union("CreateApiKeyResult", description="What createApiKey did."),
]


async def create_api_key(
    info: Info,
    input: Annotated[CreateApiKeyInput, strawberry.argument(description="The new key.")],
) -> CreateApiKeyResult:
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
            allowed_cidrs=input.allowed_cidrs,
            allowed_origins=input.allowed_origins,
            restriction_mode=input.restriction_mode,
        )
    except errors.InvalidInput as error:
        return invalid_input(error)
    return ApiKeyCreated(api_key=ApiKey.from_model(key), token=token)
