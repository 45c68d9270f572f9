"""The team side of an organization in GraphQL: `Member`, `Invitation`, and the resolvers of
`Organization.members` and `Organization.invitations`."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from models import entities
from models.access import UserPrincipal, user_of
from models.entities import Role
from models.invitations import InvitationStatus, invitation_list, invitation_status
from models.members import member_list
from schema.connection import (
    AFTER,
    BEFORE,
    FIRST,
    LAST,
    Connection,
    connection,
    connection_arguments,
)
from schema.context import Info

if TYPE_CHECKING:
    from schema.types import User

strawberry.enum(
    InvitationStatus,
    description="Where an invitation stands: PENDING until accepted, revoked or expired.",
)

LazyUser = Annotated["User", strawberry.lazy("schema.types")]
DEFAULT_MEMBER_PAGE_SIZE = 50


def _user(user: entities.User, viewer: UserPrincipal) -> User:
    from schema.types import User

    return User.from_model(user, viewer)


@strawberry.type(description="A person in an organization, with their role there.")
class Member:
    user: LazyUser = strawberry.field(description="The person.")
    role: Role = strawberry.field(description="What they may do here (see viewerPermissions).")
    joined_at: datetime = strawberry.field(description="When they joined the organization.")

    @classmethod
    def from_model(cls, membership: entities.Membership, viewer: UserPrincipal) -> Member:
        return cls(
            user=_user(membership.user, viewer),
            role=membership.role,
            joined_at=membership.created_at,
        )


@strawberry.type(description="An invitation to join an organization with a role.")
class Invitation:
    id: strawberry.ID = strawberry.field(description="The invitation's id (for revoking it).")
    email: str = strawberry.field(description="Only the account with this email may accept.")
    role: Role = strawberry.field(description="The role the person gets on accepting.")
    status: InvitationStatus = strawberry.field(description="Where the invitation stands now.")
    created_at: datetime = strawberry.field(description="When the invitation was sent.")
    expires_at: datetime = strawberry.field(description="When its link stops working.")
    invited_by: LazyUser | None = strawberry.field(
        description="Who invited; null once that account is gone."
    )

    @classmethod
    def from_model(
        cls, invitation: entities.Invitation, viewer: UserPrincipal, now: datetime
    ) -> Invitation:
        inviter = invitation.invited_by
        return cls(
            id=strawberry.ID(str(invitation.id)),
            email=invitation.email,
            role=invitation.role,
            status=invitation_status(invitation, now),
            created_at=invitation.created_at,
            expires_at=invitation.expires_at,
            invited_by=None if inviter is None else _user(inviter, viewer),
        )


MEMBERS = "members"


async def organization_members(
    root: Any,
    info: Info,
    first: Annotated[int | None, strawberry.argument(description=FIRST)] = None,
    after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
    last: Annotated[int | None, strawberry.argument(description=LAST)] = None,
    before: Annotated[str | None, strawberry.argument(description=BEFORE)] = None,
) -> Connection[Member]:
    request = connection_arguments(MEMBERS, first, after, last, before)
    page = await member_list(access=root.access, page=request)
    viewer = user_of(root.access.principal)
    return connection(
        MEMBERS, page, lambda m: (m.created_at, m.id), lambda m: Member.from_model(m, viewer)
    )


async def organization_invitations(
    root: Any, info: Info, status: InvitationStatus | None = InvitationStatus.PENDING
) -> list[Invitation]:
    now = info.context.now
    found = await invitation_list(access=root.access, status=status, now=now)
    viewer = user_of(root.access.principal)
    return [Invitation.from_model(invitation, viewer, now) for invitation in found]
