"""The GraphQL object types. Each maps a domain row; none queries the database itself except
through a domain function or the request's DataLoader."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime

import strawberry

from models import entities
from models.access import OrganizationAccess, Permission, UserPrincipal, user_organization_accesses
from models.api_keys import api_key_list
from models.entities import ApiKeyStatus, ApiKeyType, Role
from models.errors import InvalidInput
from models.key_listing import ApiKeyRow
from models.key_verification import Verification, VerificationCode
from schema.audit import audit_events, key_usage, revoked_key_uses, security_events
from schema.context import Info
from schema.errors import BadUserInput

# The domain's enums are the schema's enums (strawberry registers the classes themselves).
strawberry.enum(ApiKeyType)
strawberry.enum(ApiKeyStatus)
strawberry.enum(Role)
strawberry.enum(VerificationCode)
strawberry.enum(Permission)


@strawberry.type
class ApiKey:
    id: strawberry.ID
    name: str
    type: ApiKeyType
    is_default: bool
    start: str = strawberry.field(
        description="Enough of the token to recognise the key, useless to an attacker."
    )
    token: str | None = strawberry.field(
        description="The full token of a PUBLIC key; always null for a SECRET key."
    )
    created_at: datetime
    expires_at: datetime | None
    rolled_at: datetime | None
    last_used_at: datetime | None
    organization_id: strawberry.Private[uuid.UUID]
    replaced_by_id: strawberry.Private[uuid.UUID | None]
    # The replacement when a listing loaded it already (one query for the page): `replacedBy`
    # then resolves synchronously, and a page of 50 nodes completes without 50 awaitables.
    replacement: strawberry.Private[entities.ApiKey | None] = None

    @classmethod
    def from_model(
        cls, key: entities.ApiKey | ApiKeyRow, replacement: entities.ApiKey | None = None
    ) -> ApiKey:
        return cls(
            id=strawberry.ID(str(key.id)),
            name=key.name,
            type=key.type,
            is_default=key.is_default,
            start=key.start,
            token=key.token if key.type is entities.ApiKeyType.PUBLIC else None,
            created_at=key.created_at,
            expires_at=key.expires_at,
            rolled_at=key.rolled_at,
            last_used_at=key.last_used_at,
            organization_id=key.organization_id,
            replaced_by_id=key.replaced_by_id,
            replacement=replacement,
        )

    usage = strawberry.field(
        resolver=key_usage,
        description="Verifications of this key per hour or day, oldest first, empty buckets "
        "included. Counts reach the database every USAGE_FLUSH_SECONDS (5 s by default).",
    )

    @strawberry.field
    def status(self, info: Info) -> ApiKeyStatus:
        return entities.api_key_status(self.expires_at, self.rolled_at, info.context.now)

    @strawberry.field
    def replaced_by(self, info: Info) -> ApiKey | None:
        # Not `async def`: graphql-core awaits the coroutine only when the replacement was not
        # preloaded, so a listing's nodes complete synchronously.
        if self.replaced_by_id is None:
            return None
        if self.replacement is not None:
            return self._visible(self.replacement)
        return self._load_replaced_by(info)  # type: ignore[return-value]

    async def _load_replaced_by(self, info: Info) -> ApiKey | None:
        assert self.replaced_by_id is not None
        return self._visible(await info.context.api_keys.load(self.replaced_by_id))

    def _visible(self, key: entities.ApiKey | None) -> ApiKey | None:
        if key is None or key.organization_id != self.organization_id:
            return None
        return ApiKey.from_model(key)


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class ApiKeyEdge:
    cursor: str
    node: ApiKey


@strawberry.type
class ApiKeyConnection:
    edges: list[ApiKeyEdge]
    page_info: PageInfo
    total_count: int


def encode_cursor(key: entities.ApiKey | ApiKeyRow) -> str:
    raw = f"{key.created_at.isoformat()}|{key.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created_at, key_id = raw.split("|")
        when = datetime.fromisoformat(created_at)
        if when.tzinfo is None:
            raise ValueError
        return when, uuid.UUID(key_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadUserInput("The cursor `after` is not one this API gave out.") from None


DEFAULT_PAGE_SIZE = 50


@strawberry.type
class Organization:
    id: strawberry.ID
    name: str
    created_at: datetime
    viewer_role: Role | None = strawberry.field(
        description="The caller's role here; null when the caller is an API key."
    )
    viewer_permissions: list[Permission] = strawberry.field(
        description="What the caller may do here. Clients show or hide controls from this list "
        "and keep no permission table of their own."
    )
    access: strawberry.Private[OrganizationAccess]

    @classmethod
    def from_access(cls, access: OrganizationAccess) -> Organization:
        organization = access.organization
        return cls(
            id=strawberry.ID(str(organization.id)),
            name=organization.name,
            created_at=organization.created_at,
            viewer_role=access.role,
            viewer_permissions=sorted(access.permissions, key=list(Permission).index),
            access=access,
        )

    @strawberry.field(
        description="How long, in seconds, a rolled key keeps working when rollApiKey names no "
        "grace period: the server's ROLL_GRACE_SECONDS."
    )
    def roll_grace_period_seconds(self, info: Info) -> int:
        return info.context.policies.keys.grace_default_seconds

    @strawberry.field(description="The longest grace period, in seconds, rollApiKey accepts.")
    def max_roll_grace_period_seconds(self, info: Info) -> int:
        return info.context.policies.keys.grace_max_seconds

    audit_events = strawberry.field(
        resolver=audit_events,
        description="Who changed what in this organization, newest first (OWNER and ADMIN).",
    )
    revoked_key_uses = strawberry.field(
        resolver=revoked_key_uses,
        description="Deleted keys that are still being sent, most recently seen first. The "
        "senders were told NOT_FOUND.",
    )

    @strawberry.field(description="The organization's keys, newest first; first ≤ 100.")
    async def api_keys(
        self, info: Info, first: int | None = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> ApiKeyConnection:
        try:
            page = await api_key_list(
                access=self.access,
                first=DEFAULT_PAGE_SIZE if first is None else first,
                after=None if after is None else decode_cursor(after),
            )
        except InvalidInput as error:
            raise BadUserInput(error.message, field=error.field) from None
        replaced_ids = [k.replaced_by_id for k in page.keys if k.replaced_by_id is not None]
        loaded = await info.context.api_keys.load_many(replaced_ids) if replaced_ids else []
        replacements = {key.id: key for key in loaded if key is not None}
        edges = [
            ApiKeyEdge(
                cursor=encode_cursor(k),
                node=ApiKey.from_model(
                    k, None if k.replaced_by_id is None else replacements.get(k.replaced_by_id)
                ),
            )
            for k in page.keys
        ]
        return ApiKeyConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next_page,
                end_cursor=edges[-1].cursor if edges else None,
            ),
            total_count=page.total_count,
        )


@strawberry.type
class User:
    id: strawberry.ID
    email: str
    created_at: datetime
    # Whose eyes the user is seen through: the request's session (`me`) or the session a
    # signUp/signIn just made (its payload).
    principal: strawberry.Private[UserPrincipal]

    @classmethod
    def from_model(cls, user: entities.User, principal: UserPrincipal) -> User:
        return cls(
            id=strawberry.ID(str(user.id)),
            email=user.email,
            created_at=user.created_at,
            principal=principal,
        )

    security_events = strawberry.field(
        resolver=security_events,
        description="Your account's security log, newest first: sign-ins, failed sign-ins, "
        "sign-outs, ended sessions, password changes.",
    )

    @strawberry.field
    async def organizations(self) -> list[Organization]:
        accesses = await user_organization_accesses(self.principal)
        return [Organization.from_access(access) for access in accesses]


@strawberry.type
class ApiKeyVerification:
    valid: bool
    code: VerificationCode
    key_id: strawberry.ID | None
    organization_id: strawberry.ID | None
    type: ApiKeyType | None
    expires_at: datetime | None

    @classmethod
    def from_result(cls, result: Verification) -> ApiKeyVerification:
        return cls(
            valid=result.valid,
            code=result.code,
            key_id=None if result.key_id is None else strawberry.ID(str(result.key_id)),
            organization_id=(
                None
                if result.organization_id is None
                else strawberry.ID(str(result.organization_id))
            ),
            type=result.type,
            expires_at=result.expires_at,
        )


def parse_id(value: str) -> uuid.UUID | None:
    """A client-given ID as a UUID; None when it is not one, and so names nothing."""
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
