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


@strawberry.input(description="A new account.")
class SignUpInput:
    email: str = strawberry.field(
        description="The email to sign in with (at most 254 characters); one account each."
    )
    password: str = strawberry.field(
        description="8 to 1,024 characters; stored only as an argon2id hash."
    )
    organization_name: str | None = strawberry.field(
        default=None,
        description="The first organization's name, 1 to 100 characters; by default "
        '"My organization".',
    )


SignUpResult = Annotated[
    SignedIn | EmailTaken | InvalidInput | TooManyAttemptsError,
    strawberry.union("SignUpResult", description="What signUp did."),
]


async def sign_up(
    info: Info,
    input: Annotated[SignUpInput, strawberry.argument(description="The new account.")],
) -> SignUpResult:
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
            context=context.request,
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
