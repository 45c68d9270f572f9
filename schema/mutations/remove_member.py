"""removeMember: the person loses the organization on their very next request."""

from __future__ import annotations

from typing import Annotated

import strawberry

from models import errors
from models.access import Permission, organization_access
from models.members import member_remove
from schema.context import Info
from schema.team_errors import LastOwner, MemberNotFound
from schema.types import parse_id


@strawberry.input(description="Who to remove from which organization.")
class RemoveMemberInput:
    organization_id: strawberry.ID = strawberry.field(description="The organization.")
    user_id: strawberry.ID = strawberry.field(description="The member's user id.")


@strawberry.type(description="The member is removed; their very next request is refused.")
class MemberRemoved:
    user_id: strawberry.ID = strawberry.field(description="The removed member's user id.")


RemoveMemberResult = Annotated[
    MemberRemoved | MemberNotFound | LastOwner,
    strawberry.union("RemoveMemberResult", description="What removeMember did."),
]


async def remove_member(
    info: Info,
    input: Annotated[RemoveMemberInput, strawberry.argument(description="The member to remove.")],
) -> RemoveMemberResult:
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
        await member_remove(access=access, user_id=user_id, context=info.context.request)
    except errors.MemberNotFound as error:
        return MemberNotFound(message=error.message)
    except errors.LastOwner as error:
        return LastOwner(message=error.message)
    return MemberRemoved(user_id=strawberry.ID(str(user_id)))
