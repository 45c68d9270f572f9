"""revokeInvitation: a pending invitation's link stops working at once."""

from __future__ import annotations

from typing import Annotated

import strawberry

from models import errors
from models.access import Permission, invitation_access
from models.invitations import invitation_revoke
from schema.context import Info
from schema.team_errors import InvitationNotFound
from schema.teams import Invitation
from schema.types import parse_id, users_as_seen_by


@strawberry.input(description="The invitation to revoke.")
class RevokeInvitationInput:
    id: strawberry.ID = strawberry.field(description="The invitation's id.")


@strawberry.type(description="The invitation is revoked: its link no longer works.")
class InvitationRevoked:
    invitation: Invitation = strawberry.field(description="The revoked invitation.")


RevokeInvitationResult = Annotated[
    InvitationRevoked | InvitationNotFound,
    strawberry.union("RevokeInvitationResult", description="What revokeInvitation did."),
]


async def revoke_invitation(
    info: Info,
    input: Annotated[
        RevokeInvitationInput, strawberry.argument(description="The invitation to revoke.")
    ],
) -> RevokeInvitationResult:
    principal = info.context.require_principal()
    invitation_id = parse_id(input.id)
    found = (
        None
        if invitation_id is None
        else await invitation_access(principal, invitation_id, Permission.MANAGE_MEMBERS)
    )
    if found is None:
        return InvitationNotFound(message=errors.InvitationNotFound.message)
    access, invitation = found
    try:
        invitation = await invitation_revoke(
            access=access,
            invitation_id=invitation.id,
            now=info.context.now,
            context=info.context.request,
        )
    except errors.InvitationNotFound as error:
        return InvitationNotFound(message=error.message)
    return InvitationRevoked(
        invitation=Invitation.from_model(invitation, users_as_seen_by(principal), info.context.now)
    )
