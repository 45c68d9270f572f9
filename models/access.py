"""Who a credential is, and what it may do in which organization: decided here, once.

The permission table below is the only one. Every operation on an organization's data takes an
access object (`OrganizationAccess`, `KeyAccess`) that only this module can make, from a
principal, an id and a permission; an adapter cannot call such an operation without having asked
here first, and the operation checks that the access it was handed grants what it does.

An organization the principal has no part in is "not found", exactly like one that does not
exist. Only a principal that may *see* the organization but lacks the permission gets
`Forbidden`, with a message saying why.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import TypeVar

from tortoise.expressions import Q

from models import expiry, tokens
from models.entities import (
    ApiKey,
    ApiKeyType,
    Invitation,
    Membership,
    Organization,
    Role,
    Session,
)
from models.errors import Forbidden
from models.key_verification import Verification, VerificationCode, api_key_verify
from models.pagination import Page, PageRequest, Position, paginate
from models.restrictions import parse_address
from models.sql import is_sqlite, numbered
from models.webhook_entities import WebhookDelivery, WebhookEndpoint

# The objects `_people_object_access` finds: each names its organization.
Owned = TypeVar("Owned", Invitation, WebhookEndpoint, WebhookDelivery)


@dataclass(frozen=True, slots=True)
class UserPrincipal:
    user_id: uuid.UUID
    session_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class KeyPrincipal:
    key_id: uuid.UUID
    organization_id: uuid.UUID
    type: ApiKeyType
    # A rolled key keeps verifying through its grace period, but rolling exists to contain a
    # key that may be compromised: it must not be able to fight its owner.
    rolled: bool = False


Principal = UserPrincipal | KeyPrincipal


@dataclass(frozen=True, slots=True)
class AuthFailure:
    reason: VerificationCode  # MALFORMED, NOT_FOUND, EXPIRED or FORBIDDEN (its allowedCidrs)


async def authenticate(
    token: str, *, now: datetime, client_address: str | None = None
) -> Principal | AuthFailure:
    """The principal behind a bearer token: a session or an API key, checked at `now`. A key
    obeys its `allowedCidrs` against `client_address` (its origins are for resource servers)."""
    kind = tokens.parse(token)
    if kind is None:
        return AuthFailure(VerificationCode.MALFORMED)
    if kind is tokens.TokenKind.SESSION:
        rows = await Session.filter(digest=tokens.digest(token)).values(
            "id", "user_id", "expires_at"
        )
        if not rows:
            return AuthFailure(VerificationCode.NOT_FOUND)
        if expiry.ended(rows[0]["expires_at"], now):
            return AuthFailure(VerificationCode.EXPIRED)
        return UserPrincipal(user_id=rows[0]["user_id"], session_id=rows[0]["id"])
    try:
        address = None if not client_address else str(parse_address(client_address))
    except ValueError:
        address = None  # not an IP (a Unix socket): a network-restricted key is refused
    verification: Verification = await api_key_verify(
        token=token, now=now, client_ip=address, check_origins=False
    )
    if not verification.valid:
        return AuthFailure(verification.code)
    assert verification.key_id and verification.organization_id and verification.type
    return KeyPrincipal(
        key_id=verification.key_id,
        organization_id=verification.organization_id,
        type=verification.type,
        rolled=verification.rolled,
    )


class Permission(StrEnum):
    """What a principal may do in an organization. The API exposes the viewer's set
    (`Organization.viewerPermissions`), so no client keeps a copy of the table below."""

    READ_ORGANIZATION = "READ_ORGANIZATION"
    LIST_KEYS = "LIST_KEYS"
    MANAGE_KEYS = "MANAGE_KEYS"
    LIST_MEMBERS = "LIST_MEMBERS"
    # Invite as MEMBER or ADMIN, revoke invitations, remove or re-role MEMBERs and ADMINs.
    MANAGE_MEMBERS = "MANAGE_MEMBERS"
    # Invite as OWNER, make or unmake an OWNER, remove an OWNER.
    MANAGE_OWNERS = "MANAGE_OWNERS"
    # Rename or delete the organization, set its leak policy.
    MANAGE_ORGANIZATION = "MANAGE_ORGANIZATION"
    # Read and export the audit log.
    VIEW_AUDIT_LOG = "VIEW_AUDIT_LOG"
    # Register, change and delete webhook endpoints; read and retry their deliveries.
    MANAGE_WEBHOOKS = "MANAGE_WEBHOOKS"


_READ = frozenset({Permission.READ_ORGANIZATION, Permission.LIST_KEYS})
_KEYS = _READ | {Permission.MANAGE_KEYS}
# The one permission table: members by role; keys by type, on their own organization's keys
# only (a key acts for an organization, never for a person: no rights on members, invitations
# or the organization itself).
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.OWNER: frozenset(Permission),
    Role.ADMIN: _KEYS
    | {
        Permission.LIST_MEMBERS,
        Permission.MANAGE_MEMBERS,
        Permission.VIEW_AUDIT_LOG,
        Permission.MANAGE_WEBHOOKS,
    },
    Role.MEMBER: _READ | {Permission.LIST_MEMBERS},
}
KEY_PERMISSIONS: dict[ApiKeyType, frozenset[Permission]] = {
    ApiKeyType.SECRET: _KEYS | {Permission.VIEW_AUDIT_LOG},  # the export, for SIEMs
    ApiKeyType.PUBLIC: frozenset({Permission.READ_ORGANIZATION}),
}
ROLLED_KEY_MESSAGE = (
    "This key has been rolled: until its grace period ends it still verifies and may read, "
    "but only its replacement may manage keys."
)


def user_of(principal: Principal) -> UserPrincipal:
    """The signed-in user behind `principal`; an API key acts for an organization, never for a
    person, so account operations refuse it."""
    if isinstance(principal, UserPrincipal):
        return principal
    raise Forbidden("Only a signed-in user may do that.")


def permissions_of(principal: Principal, role: Role | None) -> frozenset[Permission]:
    """What `principal` may do in an organization it can see, holding `role` there."""
    if isinstance(principal, KeyPrincipal):
        granted = KEY_PERMISSIONS[principal.type]
        return granted & _READ if principal.rolled else granted
    return frozenset() if role is None else ROLE_PERMISSIONS[role]


def _refusal(principal: Principal, permission: Permission) -> Forbidden:
    if isinstance(principal, KeyPrincipal) and principal.rolled:
        if permission in KEY_PERMISSIONS[principal.type]:
            return Forbidden(ROLLED_KEY_MESSAGE)
    return Forbidden()


_SEAL = object()


@dataclass(frozen=True, slots=True)
class OrganizationAccess:
    """Proof that `principal` may see `organization` and holds `permissions` there. Made only by
    `organization_access` (and the functions below): constructing one elsewhere raises."""

    principal: Principal
    organization: Organization
    role: Role | None  # None when the principal is an API key
    permissions: frozenset[Permission]
    seal: object = field(repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.seal is not _SEAL:
            raise TypeError("access objects are made by models.access only")

    def demand(self, permission: Permission) -> None:
        """Raise `Forbidden` unless this access grants `permission`."""
        if permission not in self.permissions:
            raise _refusal(self.principal, permission)


@dataclass(frozen=True, slots=True)
class KeyAccess:
    """Proof that the principal may see `key`, through its organization's access."""

    organization: OrganizationAccess
    key: ApiKey
    seal: object = field(repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.seal is not _SEAL:
            raise TypeError("access objects are made by models.access only")

    def demand(self, permission: Permission) -> None:
        self.organization.demand(permission)


def _grant(
    principal: Principal, organization: Organization, role: Role | None
) -> OrganizationAccess:
    return OrganizationAccess(
        principal=principal,
        organization=organization,
        role=role,
        permissions=permissions_of(principal, role),
        seal=_SEAL,
    )


async def visible_organization_ids(principal: Principal) -> list[uuid.UUID]:
    """The organizations `principal` can see at all."""
    if isinstance(principal, KeyPrincipal):
        return [principal.organization_id]
    return await Membership.filter(user_id=principal.user_id).values_list(  # type: ignore[return-value]
        "organization_id", flat=True
    )


async def _organization(organization_id: uuid.UUID) -> Organization | None:
    """`Organization.get_or_none(id=…)` as one raw statement (see `models.sql`): the same
    instance as tortoise makes it, without rendering a queryset's SQL on every request."""
    db = Organization._meta.db
    sqlite = is_sqlite(db)
    columns = ", ".join(Organization._meta.fields_db_projection.values())
    sql = f"SELECT {columns} FROM organization WHERE id = ?"
    rows = await db.execute_query_dict(
        sql if sqlite else numbered(sql), [str(organization_id) if sqlite else organization_id]
    )
    return Organization._init_from_db(**rows[0]) if rows else None


async def organization_access(
    principal: Principal, organization_id: uuid.UUID | None, permission: Permission
) -> OrganizationAccess | None:
    """The organization, if `principal` may see it; raises `Forbidden` when it may see it but
    lacks `permission`. An API key may leave `organization_id` out to mean its own."""
    if isinstance(principal, KeyPrincipal):
        # A key's rights do not depend on the organization: refuse before looking anything up.
        if permission not in permissions_of(principal, None):
            raise _refusal(principal, permission)
        if organization_id not in (None, principal.organization_id):
            return None
        organization = await _organization(principal.organization_id)
        return None if organization is None else _grant(principal, organization, None)
    if organization_id is None:
        return None
    membership = await Membership.get_or_none(
        user_id=principal.user_id, organization_id=organization_id
    ).select_related("organization")
    if membership is None:
        return None
    access = _grant(principal, membership.organization, membership.role)
    access.demand(permission)
    return access


async def user_organization_accesses(principal: UserPrincipal) -> list[OrganizationAccess]:
    """Every organization the user belongs to, oldest membership first, each with its access."""
    memberships = (
        await Membership.filter(user_id=principal.user_id)
        .select_related("organization")
        .order_by("created_at", "id")
    )
    return [_grant(principal, m.organization, m.role) for m in memberships]


async def user_organization_page(
    principal: UserPrincipal, request: PageRequest
) -> Page[OrganizationAccess]:
    """One page of the organizations the user belongs to, oldest organization first, at
    positions (organization created_at, organization id) (see `models.pagination`), each with
    its access."""
    mine = Membership.filter(user_id=principal.user_id)

    async def fetch(
        after: Position | None, before: Position | None, reverse: bool, limit: int
    ) -> list[Membership]:
        query = mine
        if after is not None:
            moment = after[0].astimezone(UTC)
            query = query.filter(
                Q(organization__created_at__gt=moment)
                | Q(organization__created_at=moment, organization_id__gt=after[1])
            )
        if before is not None:
            moment = before[0].astimezone(UTC)
            query = query.filter(
                Q(organization__created_at__lt=moment)
                | Q(organization__created_at=moment, organization_id__lt=before[1])
            )
        sign = "-" if reverse else ""
        return list(
            await query.select_related("organization")
            .order_by(f"{sign}organization__created_at", f"{sign}organization_id")
            .limit(limit)
        )

    page = await paginate(
        request,
        fetch,
        lambda m: (m.organization.created_at, m.organization.id),
        await mine.count(),
    )
    return Page(
        [_grant(principal, m.organization, m.role) for m in page.items],
        page.has_previous_page,
        page.has_next_page,
        page.total_count,
    )


async def key_access(
    principal: Principal, key_id: uuid.UUID, permission: Permission
) -> KeyAccess | None:
    """The key and its organization, if `principal` may see it: the lookup itself is scoped to
    the principal's organizations, so another organization's key is simply not found."""
    if isinstance(principal, KeyPrincipal):
        if permission not in permissions_of(principal, None):
            raise _refusal(principal, permission)
        scope = ApiKey.filter(id=key_id, organization_id=principal.organization_id)
    else:
        scope = ApiKey.filter(id=key_id, organization__memberships__user_id=principal.user_id)
    key = await scope.first()
    if key is None:
        return None
    access = await organization_access(principal, key.organization_id, permission)
    return None if access is None else KeyAccess(organization=access, key=key, seal=_SEAL)


async def _people_object_access(
    principal: Principal,
    permission: Permission,
    find: Callable[[uuid.UUID], Awaitable[Owned | None]],
) -> tuple[OrganizationAccess, Owned] | None:
    """An object that only people act on (an invitation, a webhook endpoint or delivery) and
    its organization's access: `find` looks it up among the user's organizations only, so another
    organization's object is not found. An API key has no rights on such objects at all."""
    if isinstance(principal, KeyPrincipal):
        raise _refusal(principal, permission)
    found = await find(principal.user_id)
    if found is None:
        return None
    access = await organization_access(principal, found.organization_id, permission)
    return None if access is None else (access, found)


async def invitation_access(
    principal: Principal, invitation_id: uuid.UUID, permission: Permission
) -> tuple[OrganizationAccess, Invitation] | None:
    """An invitation and its organization's access, if `principal` may see it."""
    return await _people_object_access(
        principal,
        permission,
        lambda user_id: Invitation.filter(
            id=invitation_id, organization__memberships__user_id=user_id
        ).first(),
    )


async def webhook_endpoint_access(
    principal: Principal, endpoint_id: uuid.UUID, permission: Permission
) -> tuple[OrganizationAccess, WebhookEndpoint] | None:
    """A webhook endpoint and its organization's access, if `principal` may see it."""
    return await _people_object_access(
        principal,
        permission,
        lambda user_id: WebhookEndpoint.filter(
            id=endpoint_id, organization__memberships__user_id=user_id
        ).first(),
    )


async def webhook_delivery_access(
    principal: Principal, delivery_id: uuid.UUID, permission: Permission
) -> tuple[OrganizationAccess, WebhookDelivery] | None:
    """A webhook delivery and its organization's access, scoped like its endpoint."""
    return await _people_object_access(
        principal,
        permission,
        lambda user_id: WebhookDelivery.filter(
            id=delivery_id, endpoint__organization__memberships__user_id=user_id
        ).first(),
    )
