"""The Mutation root, composed from one module per mutation."""

from __future__ import annotations

import strawberry

from schema.mutations.accept_invitation import accept_invitation
from schema.mutations.change_member_role import change_member_role
from schema.mutations.change_password import change_password
from schema.mutations.create_api_key import create_api_key
from schema.mutations.create_organization import create_organization
from schema.mutations.delete_api_key import delete_api_key
from schema.mutations.delete_organization import delete_organization
from schema.mutations.end_session import end_session
from schema.mutations.invite_member import invite_member
from schema.mutations.leave_organization import leave_organization
from schema.mutations.remove_member import remove_member
from schema.mutations.rename_organization import rename_organization
from schema.mutations.request_password_reset import request_password_reset
from schema.mutations.reset_password import reset_password
from schema.mutations.revoke_invitation import revoke_invitation
from schema.mutations.roll_api_key import roll_api_key
from schema.mutations.sign_in import sign_in
from schema.mutations.sign_out import sign_out
from schema.mutations.sign_up import sign_up


@strawberry.type
class Mutation:
    sign_up = strawberry.mutation(resolver=sign_up)
    sign_in = strawberry.mutation(resolver=sign_in)
    sign_out = strawberry.mutation(resolver=sign_out, description="Ends this session at once.")
    end_session = strawberry.mutation(
        resolver=end_session, description="Ends one of your sessions at once."
    )
    create_organization = strawberry.mutation(resolver=create_organization)
    create_api_key = strawberry.mutation(resolver=create_api_key)
    roll_api_key = strawberry.mutation(resolver=roll_api_key)
    delete_api_key = strawberry.mutation(resolver=delete_api_key)
    # -- teams (see README "Teams") --
    invite_member = strawberry.mutation(
        resolver=invite_member, description="Invites an email to an organization with a role."
    )
    accept_invitation = strawberry.mutation(
        resolver=accept_invitation, description="Joins the organization an invitation names."
    )
    revoke_invitation = strawberry.mutation(
        resolver=revoke_invitation, description="Revokes a pending invitation at once."
    )
    change_member_role = strawberry.mutation(
        resolver=change_member_role, description="Gives a member another role."
    )
    remove_member = strawberry.mutation(
        resolver=remove_member, description="Removes a member from an organization at once."
    )
    leave_organization = strawberry.mutation(
        resolver=leave_organization, description="Leaves an organization."
    )
    rename_organization = strawberry.mutation(
        resolver=rename_organization, description="Renames an organization."
    )
    delete_organization = strawberry.mutation(
        resolver=delete_organization,
        description="Deletes an organization with its keys, members and invitations.",
    )
    # -- account --
    change_password = strawberry.mutation(
        resolver=change_password, description="Changes your password; ends your other sessions."
    )
    request_password_reset = strawberry.mutation(
        resolver=request_password_reset, description="Mails a password-reset link."
    )
    reset_password = strawberry.mutation(
        resolver=reset_password, description="Sets a new password with a reset link's token."
    )
