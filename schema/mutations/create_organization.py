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


@strawberry.input(description="A new organization.")
class CreateOrganizationInput:
    name: str = strawberry.field(description="Its name, 1 to 100 characters.")


@strawberry.type(description="The organization exists, with the caller as its OWNER.")
class OrganizationCreated:
    organization: Organization = strawberry.field(
        description="The new organization, with its Default API Key."
    )


CreateOrganizationResult = Annotated[
    OrganizationCreated | InvalidInput,
    strawberry.union("CreateOrganizationResult", description="What createOrganization did."),
]


async def create_organization(
    info: Info,
    input: Annotated[
        CreateOrganizationInput, strawberry.argument(description="The new organization.")
    ],
) -> CreateOrganizationResult:
    principal = info.context.require_user()
    try:
        organization = await organization_create(
            user_id=principal.user_id,
            name=input.name,
            now=info.context.now,
            policy=info.context.policies.keys,
            max_organizations=info.context.policies.accounts.max_organizations_per_user,
            context=info.context.request,
        )
    except errors.InvalidInput as error:
        return invalid_input(error)
    access = await organization_access(principal, organization.id, Permission.READ_ORGANIZATION)
    assert access is not None  # the caller founded it a moment ago, in this request
    return OrganizationCreated(organization=Organization.from_access(access))
