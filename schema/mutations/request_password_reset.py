"""requestPasswordReset: mails a reset link when the email has an account; the answer is the
same either way."""

from __future__ import annotations

from typing import Annotated

import strawberry

from models.account_recovery import password_reset_request
from models.sign_in_attempts import TooManyAttempts
from schema.context import Info
from schema.mutations.sign_in import TooManyAttemptsError


@strawberry.input(description="The email of the account whose password is forgotten.")
class RequestPasswordResetInput:
    email: str = strawberry.field(description="The account's email.")


@strawberry.type(
    description="If an account has this email, a link to reset its password is on its way "
    "(valid for one hour). The answer is the same when none has."
)
class PasswordResetRequested:
    email: str = strawberry.field(description="The email, as given.")


RequestPasswordResetResult = Annotated[
    PasswordResetRequested | TooManyAttemptsError, strawberry.union("RequestPasswordResetResult")
]


async def request_password_reset(
    info: Info, input: RequestPasswordResetInput
) -> RequestPasswordResetResult:
    context = info.context
    try:
        await password_reset_request(
            email=input.email,
            client_address=context.client_address,
            now=context.now,
            policy=context.policies.teams,
            limits=context.policies.accounts.sign_in,
        )
    except TooManyAttempts as error:
        return TooManyAttemptsError(
            message=error.message, retry_after_seconds=error.retry_after_seconds
        )
    return PasswordResetRequested(email=input.email)
