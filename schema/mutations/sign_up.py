"""signUp: a new user, their first organization with its Default API Key, and a session."""

from __future__ import annotations

from typing import Annotated

import strawberry

from models import accounts, errors
from models.access import UserPrincipal
from models.accounts import user_sign_up
from schema.context import Info
from schema.errors import EmailTaken, InvalidInput, invalid_input
from schema.types import User


@strawberry.input
class SignUpInput:
    email: str
    password: str
    organization_name: str | None = strawberry.field(
        default=None, description='Defaults to "My organization".'
    )


@strawberry.type
class SignedIn:
    session_token: str = strawberry.field(description="Send as `Authorization: Bearer …`.")
    user: User


def signed_in_as(info: Info, signed_in: accounts.SignedIn) -> SignedIn:
    """The success of signUp and signIn; the rest of the response sees the new session's user."""
    info.context.principal = UserPrincipal(
        user_id=signed_in.user.id, session_id=signed_in.session_id
    )
    return SignedIn(session_token=signed_in.session_token, user=User.from_model(signed_in.user))


SignUpResult = Annotated[SignedIn | EmailTaken | InvalidInput, strawberry.union("SignUpResult")]


async def sign_up(info: Info, input: SignUpInput) -> SignUpResult:
    context = info.context
    try:
        signed_in = await user_sign_up(
            email=input.email,
            password=input.password,
            organization_name=input.organization_name,
            now=context.now,
            passwords=context.passwords,
            session_ttl_seconds=context.settings.session_ttl_seconds,
            token_prefix=context.settings.token_prefix,
        )
    except errors.InvalidInput as error:
        return invalid_input(error)
    except errors.EmailTaken as error:
        return EmailTaken(message=error.message)
    return signed_in_as(info, signed_in)
