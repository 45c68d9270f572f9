"""renameOrganization: OWNERs only."""

from __future__ import annotations

from typing import Annotated

import strawberry

from models import errors
from models.access import Permission, organization_access
from models.organizations import organization_rename
from schema.context import Info
from schema.errors import InvalidInput, OrganizationNotFound, invalid_input
from schema.types import Organization, parse_id


@strawberry.input(description="The organization and its new name.")
class RenameOrganizationInput:
    id: strawberry.ID = strawberry.field(description="The organization.")
    name: str = strawberry.field(description="The new name, 1 to 100 characters.")


@strawberry.type(description="The organization has its new name.")
class OrganizationRenamed:
    organization: Organization = strawberry.field(description="The renamed organization.")


RenameOrganizationResult = Annotated[
    OrganizationRenamed | OrganizationNotFound | InvalidInput,
    strawberry.union("RenameOrganizationResult"),
]


async def rename_organization(
    info: Info, input: RenameOrganizationInput
) -> RenameOrganizationResult:
    principal = info.context.require_principal()
    organization_id = parse_id(input.id)
    access = (
        None
        if organization_id is None
        else await organization_access(principal, organization_id, Permission.MANAGE_ORGANIZATION)
    )
    if access is None:
        return OrganizationNotFound(message=errors.OrganizationNotFound.message)
    try:
        await organization_rename(access=access, name=input.name, context=info.context.request)
    except errors.InvalidInput as error:
        return invalid_input(error)
    except errors.OrganizationNotFound as error:
        return OrganizationNotFound(message=error.message)
    return OrganizationRenamed(organization=Organization.from_access(access))
