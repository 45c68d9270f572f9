"""The team side of an organization in GraphQL: `Member`, `Invitation`, and the resolvers of
`Organization.members` and `Organization.invitations`."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from models import entities
from models.access import UserPrincipal, user_of
from models.entities import Role
from models.errors import InvalidInput
from models.invitations import InvitationStatus, invitation_list, invitation_status
from models.members import member_list
from schema.context import Info
from schema.errors import BadUserInput

if TYPE_CHECKING:
    from schema.types import PageInfo, User

strawberry.enum(
    InvitationStatus,
    description="Where an invitation stands: PENDING until accepted, revoked or expired.",
)

LazyUser = Annotated["User", strawberry.lazy("schema.types")]
LazyPageInfo = Annotated["PageInfo", strawberry.lazy("schema.types")]
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


@strawberry.type(description="One member in a page of members.")
class MemberEdge:
    cursor: str = strawberry.field(description="Pass as `after` to get the members after this.")
    node: Member = strawberry.field(description="The member.")


@strawberry.type(description="A page of an organization's members, earliest to join first.")
class MemberConnection:
    edges: list[MemberEdge] = strawberry.field(description="The members on this page.")
    page_info: LazyPageInfo = strawberry.field(description="Whether more pages follow.")
    total_count: int = strawberry.field(description="How many members the organization has.")


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


def _cursor(membership: entities.Membership) -> str:
    raw = f"{membership.created_at.isoformat()}|{membership.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


async def organization_members(
    root: Any, info: Info, first: int | None = DEFAULT_MEMBER_PAGE_SIZE, after: str | None = None
) -> MemberConnection:
    from schema.types import PageInfo, decode_cursor

    try:
        page = await member_list(
            access=root.access,
            first=DEFAULT_MEMBER_PAGE_SIZE if first is None else first,
            after=None if after is None else decode_cursor(after),
        )
    except InvalidInput as error:
        raise BadUserInput(error.message, field=error.field) from None
    viewer = user_of(root.access.principal)
    edges = [MemberEdge(cursor=_cursor(m), node=Member.from_model(m, viewer)) for m in page.members]
    return MemberConnection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next_page, end_cursor=edges[-1].cursor if edges else None
        ),
        total_count=page.total_count,
    )


async def organization_invitations(
    root: Any, info: Info, status: InvitationStatus | None = InvitationStatus.PENDING
) -> list[Invitation]:
    now = info.context.now
    found = await invitation_list(access=root.access, status=status, now=now)
    viewer = user_of(root.access.principal)
    return [Invitation.from_model(invitation, viewer, now) for invitation in found]
