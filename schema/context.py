"""The typed per-request context every resolver receives.

The principal is fixed by the HTTP edge before any resolver runs and cannot change during the
request (the context is frozen): a sign-in's new session is returned in its payload, never
adopted by the rest of the document.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeAlias

import strawberry
from strawberry.dataloader import DataLoader

from models.access import Principal, UserPrincipal, user_of
from models.api_keys import api_keys_by_ids
from models.key_listing import ApiKeyRow
from models.passwords import Passwords
from models.policies import Policies
from models.request_context import NO_REQUEST, RequestContext
from schema.errors import Unauthenticated
from schema.leaks import KeyLeak, load_leaks
from settings import Settings


async def _load_api_keys(ids: list[uuid.UUID]) -> list[ApiKeyRow | None]:
    found = await api_keys_by_ids(key_ids=ids)
    return [found.get(key_id) for key_id in ids]


@dataclass(frozen=True)
class Context:
    settings: Settings
    policies: Policies
    passwords: Passwords
    now: datetime
    principal: Principal | None
    # The peer's address (after TRUSTED_PROXY_HOPS), for per-client sign-in limits.
    client_address: str = ""
    # Where the request came from, as audit events record it.
    request: RequestContext = NO_REQUEST
    api_keys: DataLoader[uuid.UUID, ApiKeyRow | None] = field(
        default_factory=lambda: DataLoader(load_fn=_load_api_keys)
    )
    # Leaks by (organization id, key id): a page of keys costs one query.
    leaks: DataLoader[tuple[uuid.UUID, uuid.UUID], list[KeyLeak]] = field(
        default_factory=lambda: DataLoader(load_fn=load_leaks)
    )

    def require_principal(self) -> Principal:
        if self.principal is None:
            raise Unauthenticated()
        return self.principal

    def require_user(self) -> UserPrincipal:
        """The signed-in user; `models.access.user_of` decides that an API key is not one."""
        return user_of(self.require_principal())


Info: TypeAlias = strawberry.Info[Context, None]
