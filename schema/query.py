"""The Query root: thin adapters over the domain's read operations."""

from __future__ import annotations

from typing import Annotated

import strawberry

from models.access import (
    Permission,
    UserPrincipal,
    key_access,
    organization_access,
    visible_organization_ids,
)
from models.accounts import user_get
from models.errors import InvalidInput
from models.key_verification import api_key_verify
from schema.context import Info
from schema.errors import BadUserInput
from schema.sessions import Session, sessions
from schema.types import ApiKey, ApiKeyVerification, Organization, User, parse_id
from telemetry.verifications import verification_counted


@strawberry.type(
    description="Everything there is to read. Send a credential as `Authorization: Bearer "
    "<token>` (a session token, or an API key's token): without one, fields that need it answer "
    "an UNAUTHENTICATED error; with a bad one, the request is refused with HTTP 401."
)
class Query:
    sessions: list[Session] = strawberry.field(
        resolver=sessions,
        description="The signed-in user's unexpired sessions, newest first (at most 100). Needs "
        "a session; an API key gets FORBIDDEN.",
    )

    @strawberry.field(description="The signed-in user; null unless signed in as a user.")
    async def me(self, info: Info) -> User | None:
        principal = info.context.principal
        if not isinstance(principal, UserPrincipal):
            return None
        user = await user_get(user_id=principal.user_id)
        return None if user is None else User.from_model(user, principal)

    @strawberry.field(
        description="An organization the caller may see; null when there is none by that id "
        "(another organization's is null too). Needs a credential; any key may read its own "
        "organization's id and name."
    )
    async def organization(
        self,
        info: Info,
        id: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description="The organization's id; an API key may leave it out for its own."
            ),
        ] = None,
    ) -> Organization | None:
        principal = info.context.require_principal()
        organization_id = None if id is None else parse_id(id)
        if id is not None and organization_id is None:
            return None
        access = await organization_access(principal, organization_id, Permission.READ_ORGANIZATION)
        return None if access is None else Organization.from_access(access)

    @strawberry.field(
        description="A key; null unless the caller may list its organization's keys (a member, "
        "or a secret key of that organization)."
    )
    async def api_key(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The key's id.")],
    ) -> ApiKey | None:
        principal = info.context.require_principal()
        key_id = parse_id(id)
        found = (
            None if key_id is None else await key_access(principal, key_id, Permission.LIST_KEYS)
        )
        return None if found is None else ApiKey.from_model(found.key)

    @strawberry.field(
        description="Whether a token is a key of the caller's organizations, usable now; a key "
        "of any other organization is NOT_FOUND. Needs a credential. Resource servers verifying "
        "any key use `POST /v1/keys/verify` instead."
    )
    async def verify_api_key(
        self,
        info: Info,
        token: Annotated[
            str, strawberry.argument(description="The token to check, as it was presented.")
        ],
        client_ip: Annotated[
            str | None,
            strawberry.argument(
                description="The address of the caller that presented the token; a key with "
                "allowedCidrs is FORBIDDEN without it or outside them."
            ),
        ] = None,
        origin: Annotated[
            str | None,
            strawberry.argument(
                description="That caller's Origin header or, failing that, its Referer (the "
                "path is ignored); a key with allowedOrigins is FORBIDDEN without it or outside "
                "them."
            ),
        ] = None,
    ) -> ApiKeyVerification:
        principal = info.context.require_principal()
        within = await visible_organization_ids(principal)
        try:
            result = await api_key_verify(
                token=token, now=info.context.now, within=within, client_ip=client_ip, origin=origin
            )
        except InvalidInput as error:
            raise BadUserInput(error.message, field=error.field) from None
        verification_counted(result, token)
        return ApiKeyVerification.from_result(result)
