"""rollApiKey: a replacement key; the old one keeps working through its grace period."""

from __future__ import annotations

from typing import Annotated

import strawberry

from models import errors
from models.access import Permission
from models.api_keys import api_key_roll
from schema.context import Info
from schema.errors import ApiKeyNotFound, ApiKeyNotRollable, InvalidInput, invalid_input
from schema.types import ApiKey, key_named


@strawberry.input(description="The key to roll, and for how long it keeps working.")
class RollApiKeyInput:
    id: strawberry.ID = strawberry.field(description="The ACTIVE key to replace.")
    grace_period_seconds: int | None = strawberry.field(
        default=None,
        description="How long the old key keeps working, in seconds: from 0 to the "
        "organization's `maxRollGracePeriodSeconds`; by default its `rollGracePeriodSeconds` "
        "(the server's ROLL_GRACE_SECONDS).",
    )


@strawberry.type(description="The key is replaced; the old one works until its grace ends.")
class ApiKeyRolled:
    api_key: ApiKey = strawberry.field(description="The replacement.")
    token: str = strawberry.field(description="The replacement's token, shown once.")
    rolled_api_key: ApiKey = strawberry.field(description="The old key, now ROLLED.")


RollApiKeyResult = Annotated[
    ApiKeyRolled | ApiKeyNotFound | ApiKeyNotRollable | InvalidInput,
    strawberry.union("RollApiKeyResult", description="What rollApiKey did."),
]


async def roll_api_key(
    info: Info,
    input: Annotated[RollApiKeyInput, strawberry.argument(description="The key and its grace.")],
) -> RollApiKeyResult:
    found = await key_named(info, input.id, Permission.MANAGE_KEYS)
    if found is None:
        return ApiKeyNotFound(message=errors.ApiKeyNotFound.message)
    try:
        new, token, old = await api_key_roll(
            access=found,
            grace_seconds=input.grace_period_seconds,
            now=info.context.now,
            policy=info.context.policies.keys,
            context=info.context.request,
        )
    except errors.InvalidInput as error:
        return invalid_input(error)
    except errors.ApiKeyNotFound as error:
        return ApiKeyNotFound(message=error.message)
    except errors.ApiKeyNotRollable as error:
        return ApiKeyNotRollable(message=error.message)
    return ApiKeyRolled(
        api_key=ApiKey.from_model(new), token=token, rolled_api_key=ApiKey.from_model(old)
    )
