"""signUp: a new user, their first organization with its Default API Key, and a session."""

from __future__ import annotations

from typing import Annotated

import strawberry

from models import errors
from models.accounts import user_sign_up
from models.sign_up_limits import TooManySignUps
from schema.context import Info
from schema.errors import EmailTaken, InvalidInput, invalid_input
from schema.mutations.sign_in import TooManyAttemptsError
from schema.mutations.signed_in import SignedIn, signed_in


@strawberry.input
class SignUpInput:
    email: str
    password: str
    organization_name: str | None = strawberry.field(
        default=None, description='Defaults to "My organization".'
    )


SignUpResult = Annotated[
    SignedIn | EmailTaken | InvalidInput | TooManyAttemptsError, strawberry.union("SignUpResult")
]


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
            client_address=context.client_address,
        )
    except errors.InvalidInput as error:
        return invalid_input(error)
    except errors.EmailTaken as error:
        return EmailTaken(message=error.message)
    except TooManySignUps as error:
        return TooManyAttemptsError(
            message=error.message, retry_after_seconds=error.retry_after_seconds
        )
    return signed_in(result)
