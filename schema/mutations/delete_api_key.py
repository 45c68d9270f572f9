"""deleteApiKey: revoked at once; the very next request with the key fails."""

from __future__ import annotations

from typing import Annotated

import strawberry

from models import errors
from models.access import Permission
from models.api_keys import api_key_delete
from schema.context import Info
from schema.errors import ApiKeyNotFound
from schema.types import key_named


@strawberry.input(description="The key to delete.")
class DeleteApiKeyInput:
    id: strawberry.ID = strawberry.field(description="The key's id.")


@strawberry.type(description="The key is gone: refused from the very next request.")
class ApiKeyDeleted:
    deleted_api_key_id: strawberry.ID = strawberry.field(description="The deleted key's id.")


DeleteApiKeyResult = Annotated[
    ApiKeyDeleted | ApiKeyNotFound,
    strawberry.union("DeleteApiKeyResult", description="What deleteApiKey did."),
]


async def delete_api_key(
    info: Info,
    input: Annotated[DeleteApiKeyInput, strawberry.argument(description="The key.")],
) -> DeleteApiKeyResult:
    found = await key_named(info, input.id, Permission.MANAGE_KEYS)
    if found is None:
        return ApiKeyNotFound(message=errors.ApiKeyNotFound.message)
    try:
        deleted_id = await api_key_delete(
            access=found, now=info.context.now, context=info.context.request
        )
    except errors.ApiKeyNotFound as error:
        return ApiKeyNotFound(message=error.message)
    return ApiKeyDeleted(deleted_api_key_id=strawberry.ID(str(deleted_id)))
