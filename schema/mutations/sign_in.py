"""signIn: a new session for the right email and password."""

from __future__ import annotations

from typing import Annotated

import strawberry

from models import errors
from models.sign_in_attempts import TooManyAttempts, user_sign_in_limited
from schema.context import Info
from schema.errors import Error, InvalidCredentials
from schema.mutations.signed_in import SignedIn, signed_in
from telemetry.metrics import sign_in_failed


@strawberry.input(description="The credentials of an account.")
class SignInInput:
    email: str = strawberry.field(description="The account's email.")
    password: str = strawberry.field(description="The account's password.")


@strawberry.type(
    name="TooManyAttempts",
    description="Too many failed sign-ins for this email or from this client address within "
    "SIGN_IN_WINDOW_SECONDS: refused, even with the right password, until the window passes.",
)
class TooManyAttemptsError(Error):
    retry_after_seconds: int = strawberry.field(
        description="Seconds until this email and address may try again."
    )


SignInResult = Annotated[
    SignedIn | InvalidCredentials | TooManyAttemptsError,
    strawberry.union("SignInResult", description="What signIn did."),
]


async def sign_in(
    info: Info,
    input: Annotated[SignInInput, strawberry.argument(description="The credentials.")],
) -> SignInResult:
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
        sign_in_failed("invalid_credentials")
        return InvalidCredentials(message=error.message)
    except TooManyAttempts as error:
        sign_in_failed("too_many_attempts")
        return TooManyAttemptsError(
            message=error.message, retry_after_seconds=error.retry_after_seconds
        )
    return signed_in(result)
