"""renameApiKey: a key's new name; its token, status and dates stay as they are."""

from __future__ import annotations

from typing import Annotated

import strawberry

from models import errors
from models.access import Permission
from models.key_update import api_key_rename
from schema.context import Info
from schema.errors import ApiKeyNotFound, InvalidInput, invalid_input
from schema.types import ApiKey, key_named


@strawberry.input(description="Which key, and its new name.")
class RenameApiKeyInput:
    id: strawberry.ID = strawberry.field(description="The key's ID.")
    name: str = strawberry.field(description="1 to 100 characters; spaces around it are dropped.")


@strawberry.type(description="The key was renamed.")
class ApiKeyRenamed:
    api_key: ApiKey = strawberry.field(description="The key, with its new name.")


RenameApiKeyResult = Annotated[
    ApiKeyRenamed | ApiKeyNotFound | InvalidInput,
    strawberry.union("RenameApiKeyResult", description="What renameApiKey did."),
]


async def rename_api_key(
    info: Info,
    input: Annotated[RenameApiKeyInput, strawberry.argument(description="The key and its name.")],
) -> RenameApiKeyResult:
    found = await key_named(info, input.id, Permission.MANAGE_KEYS)
    if found is None:
        return ApiKeyNotFound(message=errors.ApiKeyNotFound.message)
    try:
        key = await api_key_rename(
            access=found, name=input.name, now=info.context.now, context=info.context.request
        )
    except errors.InvalidInput as error:
        return invalid_input(error)
    except errors.ApiKeyNotFound as error:
        return ApiKeyNotFound(message=error.message)
    return ApiKeyRenamed(api_key=ApiKey.from_model(key))
