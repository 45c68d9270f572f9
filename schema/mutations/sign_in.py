"""signIn: a new session for the right email and password."""

from __future__ import annotations

from typing import Annotated

import strawberry

from models import errors
from models.accounts import user_sign_in
from schema.context import Info
from schema.errors import InvalidCredentials
from schema.mutations.sign_up import SignedIn, signed_in_as


@strawberry.input
class SignInInput:
    email: str
    password: str


SignInResult = Annotated[SignedIn | InvalidCredentials, strawberry.union("SignInResult")]


async def sign_in(info: Info, input: SignInInput) -> SignInResult:
    context = info.context
    try:
        signed_in = await user_sign_in(
            email=input.email,
            password=input.password,
            now=context.now,
            passwords=context.passwords,
            session_ttl_seconds=context.settings.session_ttl_seconds,
            token_prefix=context.settings.token_prefix,
        )
    except errors.InvalidCredentials as error:
        return InvalidCredentials(message=error.message)
    return signed_in_as(info, signed_in)
