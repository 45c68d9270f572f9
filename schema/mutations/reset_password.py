"""resetPassword: a new password with a reset token (once); every session of the user ends."""

from __future__ import annotations

from typing import Annotated

import strawberry

from models import errors
from models.account_recovery import password_reset
from models.sign_in_attempts import TooManyAttempts
from schema.context import Info
from schema.errors import InvalidInput, invalid_input
from schema.mutations.sign_in import TooManyAttemptsError
from schema.team_errors import ResetTokenInvalid


@strawberry.input(description="The token from the reset link, and the new password.")
class ResetPasswordInput:
    token: str = strawberry.field(description="The token from the mailed link.")
    new_password: str = strawberry.field(description="The new password, 8 to 1024 characters.")


@strawberry.type(description="The password is reset and every session ended: sign in again.")
class PasswordReset:
    ended_sessions: int = strawberry.field(description="How many sessions ended.")


ResetPasswordResult = Annotated[
    PasswordReset | InvalidInput | ResetTokenInvalid | TooManyAttemptsError,
    strawberry.union("ResetPasswordResult"),
]


async def reset_password(info: Info, input: ResetPasswordInput) -> ResetPasswordResult:
    context = info.context
    try:
        ended = await password_reset(
            token=input.token,
            new_password=input.new_password,
            client_address=context.client_address,
            now=context.now,
            passwords=context.passwords,
            limits=context.policies.accounts.sign_in,
        )
    except errors.InvalidInput as error:
        return invalid_input(error)
    except errors.ResetTokenInvalid as error:
        return ResetTokenInvalid(message=error.message)
    except TooManyAttempts as error:
        return TooManyAttemptsError(
            message=error.message, retry_after_seconds=error.retry_after_seconds
        )
    return PasswordReset(ended_sessions=ended)
