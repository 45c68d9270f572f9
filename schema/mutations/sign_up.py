"""signUp: a new user, their first organization with its Default API Key, and a session."""

from __future__ import annotations

from typing import Annotated

import strawberry

from models import errors
from models.accounts import user_sign_up
from schema.context import Info
from schema.errors import EmailTaken, InvalidInput, invalid_input
from schema.mutations.signed_in import SignedIn, signed_in


@strawberry.input
class SignUpInput:
    email: str
    password: str
    organization_name: str | None = strawberry.field(
        default=None, description='Defaults to "My organization".'
    )


SignUpResult = Annotated[SignedIn | EmailTaken | InvalidInput, strawberry.union("SignUpResult")]


async def sign_up(info: Info, input: SignUpInput) -> SignUpResult:
    context = info.context
    try:
        result = await user_sign_up(
            email=input.email,
            password=input.password,
            organization_name=input.organization_name,
            now=context.now,
            passwords=context.passwords,
            policy=context.policies.accounts,
            key_policy=context.policies.keys,
            context=context.request,
        )
    except errors.InvalidInput as error:
        return invalid_input(error)
    except errors.EmailTaken as error:
        return EmailTaken(message=error.message)
    return signed_in(result)
