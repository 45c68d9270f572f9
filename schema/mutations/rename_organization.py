"""renameOrganization: OWNERs only."""

from __future__ import annotations

from typing import Annotated

import strawberry

from models import errors
from models.access import Permission
from models.organizations import organization_rename
from schema.context import Info
from schema.errors import InvalidInput, OrganizationNotFound, invalid_input
from schema.types import Organization, organization_named


@strawberry.input(description="The organization and its new name.")
class RenameOrganizationInput:
    id: strawberry.ID = strawberry.field(description="The organization.")
    name: str = strawberry.field(description="The new name, 1 to 100 characters.")


@strawberry.type(description="The organization has its new name.")
class OrganizationRenamed:
    organization: Organization = strawberry.field(description="The renamed organization.")


RenameOrganizationResult = Annotated[
    OrganizationRenamed | OrganizationNotFound | InvalidInput,
    strawberry.union("RenameOrganizationResult", description="What renameOrganization did."),
]


async def rename_organization(
    info: Info,
    input: Annotated[
        RenameOrganizationInput,
        strawberry.argument(description="The organization and its new name."),
    ],
) -> RenameOrganizationResult:
    access = await organization_named(info, input.id, Permission.MANAGE_ORGANIZATION)
    if access is None:
        return OrganizationNotFound(message=errors.OrganizationNotFound.message)
    try:
        await organization_rename(access=access, name=input.name, context=info.context.request)
    except errors.InvalidInput as error:
        return invalid_input(error)
    except errors.OrganizationNotFound as error:
        return OrganizationNotFound(message=error.message)
    return OrganizationRenamed(organization=Organization.from_access(access))
