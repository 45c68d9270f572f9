"""Who a credential is, and what it may do in which organization.

Every organization-scoped read and write goes through `organization_access`: an organization the
principal has no part in is "not found", exactly like one that does not exist. Only a principal
that may *see* the organization but lacks the role gets `Forbidden`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from models import tokens
from models.api_keys import Verification, VerificationCode, api_key_verify
from models.entities import ApiKey, ApiKeyType, Membership, Organization, Role, Session
from models.errors import Forbidden


@dataclass(frozen=True, slots=True)
class UserPrincipal:
    user_id: uuid.UUID
    session_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class KeyPrincipal:
    key_id: uuid.UUID
    organization_id: uuid.UUID
    type: ApiKeyType


Principal = UserPrincipal | KeyPrincipal


@dataclass(frozen=True, slots=True)
class AuthFailure:
    reason: VerificationCode  # MALFORMED, NOT_FOUND or EXPIRED


async def authenticate(token: str, *, now: datetime) -> Principal | AuthFailure:
    """The principal behind a bearer token: a session or an API key, checked at `now`."""
    kind = tokens.parse(token)
    if kind is None:
        return AuthFailure(VerificationCode.MALFORMED)
    if kind is tokens.TokenKind.SESSION:
        rows = await Session.filter(digest=tokens.digest(token)).values(
            "id", "user_id", "expires_at"
        )
        if not rows:
            return AuthFailure(VerificationCode.NOT_FOUND)
        if rows[0]["expires_at"] <= now:
            return AuthFailure(VerificationCode.EXPIRED)
        return UserPrincipal(user_id=rows[0]["user_id"], session_id=rows[0]["id"])
    verification: Verification = await api_key_verify(token=token, now=now)
    if not verification.valid:
        return AuthFailure(verification.code)
    assert verification.key_id and verification.organization_id and verification.type
    return KeyPrincipal(
        key_id=verification.key_id,
        organization_id=verification.organization_id,
        type=verification.type,
    )


class Permission(Enum):
    READ_ORGANIZATION = "read organization"
    LIST_KEYS = "list keys"
    MANAGE_KEYS = "manage keys"


_ROLE_PERMISSIONS = {
    Role.OWNER: frozenset(Permission),
    Role.ADMIN: frozenset(Permission),
    Role.MEMBER: frozenset({Permission.READ_ORGANIZATION, Permission.LIST_KEYS}),
}
_KEY_PERMISSIONS = {
    ApiKeyType.SECRET: frozenset(Permission),
    ApiKeyType.PUBLIC: frozenset({Permission.READ_ORGANIZATION}),
}


async def visible_organization_ids(principal: Principal) -> list[uuid.UUID]:
    """The organizations `principal` can see at all."""
    if isinstance(principal, KeyPrincipal):
        return [principal.organization_id]
    return await Membership.filter(user_id=principal.user_id).values_list(  # type: ignore[return-value]
        "organization_id", flat=True
    )


def may(principal: Principal, role: Role | None, permission: Permission) -> bool:
    """Whether `principal`, holding `role` in an organization it can see, has `permission`."""
    if isinstance(principal, KeyPrincipal):
        return permission in _KEY_PERMISSIONS[principal.type]
    return role is not None and permission in _ROLE_PERMISSIONS[role]


@dataclass(frozen=True, slots=True)
class Access:
    organization: Organization
    role: Role | None  # None when the principal is an API key


async def organization_access(
    principal: Principal, organization_id: uuid.UUID | None, permission: Permission
) -> Access | None:
    """The organization, if `principal` may see it; raises `Forbidden` when it may see it but
    lacks `permission`. An API key may leave `organization_id` out to mean its own."""
    if isinstance(principal, KeyPrincipal):
        # A key's rights do not depend on the organization: refuse before looking anything up.
        if not may(principal, None, permission):
            raise Forbidden()
        if organization_id not in (None, principal.organization_id):
            return None
        organization = await Organization.get_or_none(id=principal.organization_id)
        return None if organization is None else Access(organization, None)
    if organization_id is None:
        return None
    membership = await Membership.get_or_none(
        user_id=principal.user_id, organization_id=organization_id
    ).select_related("organization")
    if membership is None:
        return None
    if not may(principal, membership.role, permission):
        raise Forbidden()
    return Access(membership.organization, membership.role)


async def key_access(
    principal: Principal, key_id: uuid.UUID, permission: Permission
) -> tuple[Access, ApiKey] | None:
    """The key and its organization, if `principal` may see it: the lookup itself is scoped to
    the principal's organizations, so another organization's key is simply not found."""
    if isinstance(principal, KeyPrincipal):
        if not may(principal, None, permission):
            raise Forbidden()
        scope = ApiKey.filter(id=key_id, organization_id=principal.organization_id)
    else:
        scope = ApiKey.filter(id=key_id, organization__memberships__user_id=principal.user_id)
    key = await scope.first()
    if key is None:
        return None
    access = await organization_access(principal, key.organization_id, permission)
    return None if access is None else (access, key)
