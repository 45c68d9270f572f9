"""createOrganization: a new organization owned by the caller, with its Default API Key."""

from __future__ import annotations

from typing import Annotated

import strawberry

from models import errors
from models.access import Permission, organization_access
from models.accounts import organization_create
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
            policy=info.context.policies.keys,
            context=info.context.request,
        )
    except errors.InvalidInput as error:
        return invalid_input(error)
    access = await organization_access(principal, organization.id, Permission.READ_ORGANIZATION)
    assert access is not None  # the caller founded it a moment ago, in this request
    return OrganizationCreated(organization=Organization.from_access(access))
