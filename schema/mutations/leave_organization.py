"""leaveOrganization: the signed-in user leaves; the last OWNER may not."""

from __future__ import annotations

from typing import Annotated

import strawberry

from models import errors
from models.access import Permission, organization_access
from models.members import organization_leave
from schema.context import Info
from schema.errors import OrganizationNotFound
from schema.team_errors import LastOwner
from schema.types import parse_id


@strawberry.input(description="The organization to leave.")
class LeaveOrganizationInput:
    organization_id: strawberry.ID = strawberry.field(description="The organization.")


@strawberry.type(description="You are no longer a member of the organization.")
class OrganizationLeft:
    organization_id: strawberry.ID = strawberry.field(description="The organization you left.")


LeaveOrganizationResult = Annotated[
    OrganizationLeft | OrganizationNotFound | LastOwner,
    strawberry.union("LeaveOrganizationResult", description="What leaveOrganization did."),
]


async def leave_organization(
    info: Info,
    input: Annotated[
        LeaveOrganizationInput, strawberry.argument(description="The organization to leave.")
    ],
) -> LeaveOrganizationResult:
    principal = info.context.require_user()
    organization_id = parse_id(input.organization_id)
    access = (
        None
        if organization_id is None
        else await organization_access(principal, organization_id, Permission.READ_ORGANIZATION)
    )
    if access is None:
        return OrganizationNotFound(message=errors.OrganizationNotFound.message)
    try:
        left = await organization_leave(access=access, context=info.context.request)
    except errors.MemberNotFound:
        return OrganizationNotFound(message=errors.OrganizationNotFound.message)
    except errors.LastOwner as error:
        return LastOwner(message=error.message)
    return OrganizationLeft(organization_id=strawberry.ID(str(left)))
