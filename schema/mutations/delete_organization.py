"""deleteOrganization: OWNERs only, with the name typed to confirm. Its keys stop working at
once; its members lose it on their very next request."""

from __future__ import annotations

from typing import Annotated

import strawberry

from models import errors
from models.access import Permission
from models.organizations import organization_delete
from schema.context import Info
from schema.errors import InvalidInput, OrganizationNotFound, invalid_input
from schema.types import organization_named


@strawberry.input(description="The organization to delete, and its name typed to confirm.")
class DeleteOrganizationInput:
    id: strawberry.ID = strawberry.field(description="The organization.")
    confirm_name: str = strawberry.field(description="The organization's name, exactly.")


@strawberry.type(description="The organization, its keys, members and invitations are gone.")
class OrganizationDeleted:
    organization_id: strawberry.ID = strawberry.field(description="The deleted organization.")


DeleteOrganizationResult = Annotated[
    OrganizationDeleted | OrganizationNotFound | InvalidInput,
    strawberry.union("DeleteOrganizationResult", description="What deleteOrganization did."),
]


async def delete_organization(
    info: Info,
    input: Annotated[
        DeleteOrganizationInput,
        strawberry.argument(description="The organization, and its name typed again to confirm."),
    ],
) -> DeleteOrganizationResult:
    access = await organization_named(info, input.id, Permission.MANAGE_ORGANIZATION)
    if access is None:
        return OrganizationNotFound(message=errors.OrganizationNotFound.message)
    try:
        deleted = await organization_delete(
            access=access, confirm_name=input.confirm_name, context=info.context.request
        )
    except errors.InvalidInput as error:
        return invalid_input(error)
    except errors.OrganizationNotFound as error:
        return OrganizationNotFound(message=error.message)
    return OrganizationDeleted(organization_id=strawberry.ID(str(deleted)))
