"""The typed per-request context every resolver receives."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeAlias

import strawberry
from strawberry.dataloader import DataLoader

from models.access import Principal, UserPrincipal
from models.api_keys import api_keys_by_ids
from models.entities import ApiKey
from models.passwords import Passwords
from schema.errors import Forbidden, Unauthenticated
from settings import Settings


async def _load_api_keys(ids: list[uuid.UUID]) -> list[ApiKey | None]:
    found = await api_keys_by_ids(key_ids=ids)
    return [found.get(key_id) for key_id in ids]


@dataclass
class Context:
    settings: Settings
    passwords: Passwords
    now: datetime
    principal: Principal | None
    # The peer's address (as aiohttp sees it), for per-client sign-in limits.
    client_address: str = ""
    api_keys: DataLoader[uuid.UUID, ApiKey | None] = field(
        default_factory=lambda: DataLoader(load_fn=_load_api_keys)
    )

    def require_principal(self) -> Principal:
        if self.principal is None:
            raise Unauthenticated()
        return self.principal

    def require_user(self) -> UserPrincipal:
        principal = self.require_principal()
        if not isinstance(principal, UserPrincipal):
            raise Forbidden("Only a signed-in user may do that.")
        return principal


Info: TypeAlias = strawberry.Info[Context, None]
