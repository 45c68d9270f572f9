"""changeMemberRole: give a member another role; takes effect on their very next request."""

from __future__ import annotations

from typing import Annotated

import strawberry

from models import errors
from models.access import Permission, organization_access
from models.entities import Role
from models.members import member_change_role
from schema.context import Info
from schema.team_errors import LastOwner, MemberNotFound
from schema.teams import Member
from schema.types import parse_id, users_as_seen_by


@strawberry.input(description="Whose role to change, in which organization, to what.")
class ChangeMemberRoleInput:
    organization_id: strawberry.ID = strawberry.field(description="The organization.")
    user_id: strawberry.ID = strawberry.field(description="The member's user id.")
    role: Role = strawberry.field(description="The new role; OWNER changes take an OWNER.")


@strawberry.type(description="The member has the new role from their very next request.")
class MemberRoleChanged:
    member: Member = strawberry.field(description="The member, with the new role.")


ChangeMemberRoleResult = Annotated[
    MemberRoleChanged | MemberNotFound | LastOwner,
    strawberry.union("ChangeMemberRoleResult", description="What changeMemberRole did."),
]


async def change_member_role(
    info: Info,
    input: Annotated[
        ChangeMemberRoleInput, strawberry.argument(description="The member and their new role.")
    ],
) -> ChangeMemberRoleResult:
    principal = info.context.require_principal()
    organization_id, user_id = parse_id(input.organization_id), parse_id(input.user_id)
    access = (
        None
        if organization_id is None
        else await organization_access(principal, organization_id, Permission.MANAGE_MEMBERS)
    )
    if access is None or user_id is None:
        return MemberNotFound(message=errors.MemberNotFound.message)
    try:
        membership = await member_change_role(
            access=access, user_id=user_id, role=input.role, context=info.context.request
        )
    except errors.MemberNotFound as error:
        return MemberNotFound(message=error.message)
    except errors.LastOwner as error:
        return LastOwner(message=error.message)
    return MemberRoleChanged(member=Member.from_model(membership, users_as_seen_by(principal)))
