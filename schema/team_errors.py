"""The expected failures of the team and account mutations, each an `Error`."""

from __future__ import annotations

import strawberry

from schema.errors import Error


@strawberry.type(description="No such member here, or you may not see them.")
class MemberNotFound(Error):
    pass


@strawberry.type(
    description="No such invitation for you: made up, already used, revoked, expired, or "
    "addressed to another email."
)
class InvitationNotFound(Error):
    pass


@strawberry.type(description="That email's account is a member of the organization already.")
class AlreadyMember(Error):
    pass


@strawberry.type(
    description="The organization would be left without an OWNER: make someone else an OWNER first."
)
class LastOwner(Error):
    pass


@strawberry.type(description="The password-reset token was used, has expired or is mistyped.")
class ResetTokenInvalid(Error):
    pass
