"""signIn: a new session for the right email and password."""

from __future__ import annotations

from typing import Annotated

import strawberry

from models import errors
from models.sign_in_attempts import TooManyAttempts, user_sign_in_limited
from schema.context import Info
from schema.errors import Error, InvalidCredentials
from schema.mutations.signed_in import SignedIn, signed_in


@strawberry.input
class SignInInput:
    email: str
    password: str


@strawberry.type(name="TooManyAttempts")
class TooManyAttemptsError(Error):
    retry_after_seconds: int = strawberry.field(
        description="Seconds until this email and address may try again."
    )


SignInResult = Annotated[
    SignedIn | InvalidCredentials | TooManyAttemptsError, strawberry.union("SignInResult")
]


async def sign_in(info: Info, input: SignInInput) -> SignInResult:
    context = info.context
    try:
        result = await user_sign_in_limited(
            email=input.email,
            password=input.password,
            client_address=context.client_address,
            now=context.now,
            passwords=context.passwords,
            policy=context.policies.accounts,
            context=context.request,
        )
    except errors.InvalidCredentials as error:
        return InvalidCredentials(message=error.message)
    except TooManyAttempts as error:
        return TooManyAttemptsError(
            message=error.message, retry_after_seconds=error.retry_after_seconds
        )
    return signed_in(result)
