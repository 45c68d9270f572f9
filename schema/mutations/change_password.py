"""changePassword: a new password for the signed-in user; every other session ends."""

from __future__ import annotations

from typing import Annotated

import strawberry

from models import errors
from models.account_recovery import password_change
from models.sign_in_attempts import TooManyAttempts
from schema.context import Info
from schema.errors import InvalidCredentials, InvalidInput, invalid_input
from schema.mutations.sign_in import TooManyAttemptsError


@strawberry.input(description="The current password, to prove it is you, and the new one.")
class ChangePasswordInput:
    current_password: str = strawberry.field(description="Your password now.")
    new_password: str = strawberry.field(description="The new password, 8 to 1024 characters.")


@strawberry.type(description="The password is changed; your other sessions have ended.")
class PasswordChanged:
    ended_sessions: int = strawberry.field(description="How many other sessions ended.")


ChangePasswordResult = Annotated[
    PasswordChanged | InvalidCredentials | InvalidInput | TooManyAttemptsError,
    strawberry.union("ChangePasswordResult"),
]


async def change_password(info: Info, input: ChangePasswordInput) -> ChangePasswordResult:
    context = info.context
    principal = context.require_user()
    try:
        ended = await password_change(
            principal=principal,
            current_password=input.current_password,
            new_password=input.new_password,
            client_address=context.client_address,
            now=context.now,
            passwords=context.passwords,
            limits=context.policies.accounts.sign_in,
        )
    except errors.InvalidInput as error:
        return invalid_input(error)
    except errors.InvalidCredentials as error:
        return InvalidCredentials(message=error.message)
    except TooManyAttempts as error:
        return TooManyAttemptsError(
            message=error.message, retry_after_seconds=error.retry_after_seconds
        )
    return PasswordChanged(ended_sessions=ended)
