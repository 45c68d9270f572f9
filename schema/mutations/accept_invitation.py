"""acceptInvitation: the invited person joins the organization with the invitation's role."""

from __future__ import annotations

from typing import Annotated

import strawberry

from models import errors
from models.access import Permission, organization_access
from models.entities import Role
from models.invitations import invitation_accept
from schema.context import Info
from schema.team_errors import InvitationNotFound
from schema.types import Organization


@strawberry.input(description="The invitation to accept, as signed in with the invited email.")
class AcceptInvitationInput:
    token: str = strawberry.field(description="The invitation's token, from its link.")


@strawberry.type(description="You joined the organization.")
class InvitationAccepted:
    organization: Organization = strawberry.field(description="The organization you joined.")
    role: Role = strawberry.field(description="Your role there.")


AcceptInvitationResult = Annotated[
    InvitationAccepted | InvitationNotFound,
    strawberry.union("AcceptInvitationResult", description="What acceptInvitation did."),
]


async def accept_invitation(
    info: Info,
    input: Annotated[
        AcceptInvitationInput,
        strawberry.argument(description="The invitation's token, from its link."),
    ],
) -> AcceptInvitationResult:
    principal = info.context.require_user()
    try:
        organization, role = await invitation_accept(
            principal=principal,
            token=input.token,
            now=info.context.now,
            context=info.context.request,
        )
    except errors.InvitationNotFound as error:
        return InvitationNotFound(message=error.message)
    access = await organization_access(principal, organization.id, Permission.READ_ORGANIZATION)
    if access is None:  # removed again in the meantime
        return InvitationNotFound(message=errors.InvitationNotFound.message)
    return InvitationAccepted(organization=Organization.from_access(access), role=role)
