"""updateApiKey: change a key's name and restrictions in place; the very next verification
obeys them. (renameApiKey remains, for the name alone.)"""

from __future__ import annotations

from typing import Annotated

import strawberry

from models import errors
from models.access import Permission
from models.key_update import api_key_update
from models.restrictions import RestrictionMode
from schema.context import Info
from schema.errors import ApiKeyNotFound, InvalidInput, invalid_input
from schema.types import ALLOWED_CIDRS_INPUT, ALLOWED_ORIGINS_INPUT, ApiKey, key_named

_UNCHANGED = " Null or left out: unchanged."


@strawberry.input(description="Which key, and what to change; fields left out stay as they are.")
class UpdateApiKeyInput:
    id: strawberry.ID = strawberry.field(description="The key's ID.")
    name: str | None = strawberry.field(
        default=None, description="1 to 100 characters; spaces around it are dropped." + _UNCHANGED
    )
    allowed_cidrs: list[str] | None = strawberry.field(
        default=None, description=ALLOWED_CIDRS_INPUT + _UNCHANGED + " An empty list lifts it."
    )
    allowed_origins: list[str] | None = strawberry.field(
        default=None, description=ALLOWED_ORIGINS_INPUT + _UNCHANGED + " An empty list lifts it."
    )
    restriction_mode: RestrictionMode | None = strawberry.field(
        default=None,
        description="ENFORCE refuses callers outside the restrictions; REPORT_ONLY lets them "
        "through and records them." + _UNCHANGED,
    )


@strawberry.type(description="The key was changed; its next verification obeys the change.")
class ApiKeyUpdated:
    api_key: ApiKey = strawberry.field(description="The key, as it is now.")


UpdateApiKeyResult = Annotated[
    ApiKeyUpdated | ApiKeyNotFound | InvalidInput,
    strawberry.union("UpdateApiKeyResult", description="What updateApiKey did."),
]


async def update_api_key(
    info: Info,
    input: Annotated[UpdateApiKeyInput, strawberry.argument(description="The key and changes.")],
) -> UpdateApiKeyResult:
    found = await key_named(info, input.id, Permission.MANAGE_KEYS)
    if found is None:
        return ApiKeyNotFound(message=errors.ApiKeyNotFound.message)
    try:
        key = await api_key_update(
            access=found,
            name=input.name,
            allowed_cidrs=input.allowed_cidrs,
            allowed_origins=input.allowed_origins,
            restriction_mode=input.restriction_mode,
            now=info.context.now,
            context=info.context.request,
        )
    except errors.InvalidInput as error:
        return invalid_input(error)
    except errors.ApiKeyNotFound as error:
        return ApiKeyNotFound(message=error.message)
    return ApiKeyUpdated(api_key=ApiKey.from_model(key))
