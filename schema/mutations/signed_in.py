"""The success of signUp and signIn: the new session's token and its user.

The session is returned, never adopted: the request's principal stays what the HTTP edge fixed
before any resolver ran, so a document cannot sign in and then act with the new session.
"""

from __future__ import annotations

import strawberry

from models import accounts
from models.access import UserPrincipal
from schema.types import User


@strawberry.type(description="A new session: send its token as `Authorization: Bearer …`.")
class SignedIn:
    session_token: str = strawberry.field(
        description="Send as `Authorization: Bearer …` on the next requests; shown once."
    )
    user: User = strawberry.field(description="The signed-in user.")


def signed_in(result: accounts.SignedIn) -> SignedIn:
    principal = UserPrincipal(user_id=result.user.id, session_id=result.session_id)
    return SignedIn(
        session_token=result.session_token, user=User.from_model(result.user, principal)
    )
