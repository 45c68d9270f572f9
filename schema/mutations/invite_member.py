"""inviteMember: invite an email with a role; the invitation's token is in this response once
(and, with mail on, in the mail queued in the same transaction)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from models import errors
from models.access import Permission, organization_access
from models.entities import Role
from models.invitations import invitation_create
from schema.context import Info
from schema.errors import InvalidInput, OrganizationNotFound, invalid_input
from schema.team_errors import AlreadyMember
from schema.teams import Invitation
from schema.types import parse_id, users_as_seen_by


@strawberry.input(description="Who to invite to which organization, and as what.")
class InviteMemberInput:
    organization_id: strawberry.ID = strawberry.field(description="The organization.")
    email: str = strawberry.field(description="Only the account with this email may accept.")
    role: Role = strawberry.field(
        default=Role.MEMBER,
        description="The role on accepting; inviting an OWNER takes an OWNER.",
    )


@strawberry.type(description="The invitation was made (and mailed, when mail is on).")
class MemberInvited:
    invitation: Invitation = strawberry.field(description="The pending invitation.")
    invitation_token: str = strawberry.field(description="Shown once: the invitation's token.")
    invitation_link: str = strawberry.field(
        description="The dashboard link that accepts the invitation; shown once. Send it "
        "yourself when `mailed` is false."
    )
    mailed: bool = strawberry.field(description="Whether a mail with the link was queued.")


InviteMemberResult = Annotated[
    MemberInvited | AlreadyMember | InvalidInput | OrganizationNotFound,
    strawberry.union("InviteMemberResult", description="What inviteMember did."),
]


async def invite_member(
    info: Info,
    input: Annotated[
        InviteMemberInput,
        strawberry.argument(description="Who to invite, where, and with which role."),
    ],
) -> InviteMemberResult:
    principal = info.context.require_principal()
    organization_id = parse_id(input.organization_id)
    access = (
        None
        if organization_id is None
        else await organization_access(principal, organization_id, Permission.MANAGE_MEMBERS)
    )
    if access is None:
        return OrganizationNotFound(message=errors.OrganizationNotFound.message)
    try:
        invited = await invitation_create(
            access=access,
            email=input.email,
            role=input.role,
            now=info.context.now,
            policy=info.context.policies.teams,
            context=info.context.request,
        )
    except errors.InvalidInput as error:
        return invalid_input(error)
    except errors.AlreadyMember as error:
        return AlreadyMember(message=error.message)
    return MemberInvited(
        invitation=Invitation.from_model(
            invited.invitation, users_as_seen_by(principal), info.context.now
        ),
        invitation_token=invited.token,
        invitation_link=invited.link,
        mailed=invited.mailed,
    )
