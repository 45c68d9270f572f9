"""createOrganization: a new organization owned by the caller, with its Default API Key."""

from __future__ import annotations

from typing import Annotated

import strawberry

from models import errors
from models.accounts import organization_create
from models.entities import Role
from schema.context import Info
from schema.errors import InvalidInput, invalid_input
from schema.types import Organization


@strawberry.input
class CreateOrganizationInput:
    name: str


@strawberry.type
class OrganizationCreated:
    organization: Organization


CreateOrganizationResult = Annotated[
    OrganizationCreated | InvalidInput, strawberry.union("CreateOrganizationResult")
]


async def create_organization(
    info: Info, input: CreateOrganizationInput
) -> CreateOrganizationResult:
    principal = info.context.require_user()
    try:
        organization = await organization_create(
            user_id=principal.user_id,
            name=input.name,
            now=info.context.now,
            token_prefix=info.context.settings.token_prefix,
        )
    except errors.InvalidInput as error:
        return invalid_input(error)
    return OrganizationCreated(organization=Organization.from_model(organization, Role.OWNER))
