"""signIn: a new session for the right email and password."""

from __future__ import annotations

from typing import Annotated

import strawberry

from models import errors
from models.sign_in_attempts import SignInLimits, TooManyAttempts, user_sign_in_limited
from schema.context import Info
from schema.errors import Error, InvalidCredentials
from schema.mutations.sign_up import SignedIn, signed_in_as


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
        settings = context.settings
        signed_in = await user_sign_in_limited(
            email=input.email,
            password=input.password,
            client_address=context.client_address,
            now=context.now,
            limits=SignInLimits(
                max_failures_per_email=settings.sign_in_max_failures_per_email,
                max_failures_per_address=settings.sign_in_max_failures_per_address,
                window_seconds=settings.sign_in_window_seconds,
            ),
            passwords=context.passwords,
            session_ttl_seconds=context.settings.session_ttl_seconds,
            token_prefix=context.settings.token_prefix,
        )
    except errors.InvalidCredentials as error:
        return InvalidCredentials(message=error.message)
    except TooManyAttempts as error:
        return TooManyAttemptsError(
            message=error.message, retry_after_seconds=error.retry_after_seconds
        )
    return signed_in_as(info, signed_in)
