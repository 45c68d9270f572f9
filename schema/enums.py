"""The domain's enums are the schema's enums: registered here, each value described in the
product's words (strawberry takes the classes themselves, so `models/` stays free of it)."""

from __future__ import annotations

from enum import Enum

import strawberry

from models.access import Permission
from models.entities import ApiKeyStatus, ApiKeyType, Role
from models.invitations import InvitationStatus
from models.key_verification import VerificationCode
from models.restrictions import DenialReason, RestrictionMode


def described(
    cls: type[Enum], description: str, values: dict[Enum, str], name: str | None = None
) -> None:
    strawberry.enum(cls, description=description, name=name)
    for value in cls.__strawberry_definition__.values:  # type: ignore[attr-defined]
        value.description = values.get(cls[value.name])


described(
    ApiKeyType,
    "What a key may be used for, fixed when it is created.",
    {
        ApiKeyType.PUBLIC: "Safe to publish (in a web page or an app): its token is always "
        "shown, and it may only read its organization's id and name and verify keys.",
        ApiKeyType.SECRET: "For servers only: its token is shown once, when it is created or "
        "rolled, and it may manage its own organization's keys.",
    },
)
described(
    ApiKeyStatus,
    "Where a key stands now, decided from its timestamps at the moment it is read.",
    {
        ApiKeyStatus.ACTIVE: "Usable, and may be rolled.",
        ApiKeyStatus.ROLLED: "Replaced by a new key; still usable until `expiresAt` (the end "
        "of its grace period), but it may no longer be rolled.",
        ApiKeyStatus.EXPIRED: "Past `expiresAt`: refused everywhere. It stays listed until "
        "the purge job deletes it.",
    },
)
described(
    Role,
    "A member's role in an organization.",
    {
        Role.OWNER: "Manages everything: keys, members (owners too) and the organization itself. "
        "An organization always keeps at least one.",
        Role.ADMIN: "Manages the organization's keys, and its MEMBERs and ADMINs.",
        Role.MEMBER: "Reads the organization and lists its keys and members.",
    },
)
described(
    VerificationCode,
    "The verdict on a token.",
    {
        VerificationCode.VALID: "A key usable right now.",
        VerificationCode.MALFORMED: "Not a keyward token at all: wrong shape, or its checksum "
        "does not match (a typo). Decided without a database lookup.",
        VerificationCode.NOT_FOUND: "Well-formed, but never issued, deleted, or (to a caller "
        "of another organization) not one of the caller's keys.",
        VerificationCode.EXPIRED: "Issued, but past its expiration (a rolled key after its "
        "grace period).",
        VerificationCode.FORBIDDEN: "A live key, but its restrictions refuse this caller's "
        "address or origin (see `reason`).",
    },
)
described(
    RestrictionMode,
    "What a key's restrictions do to a caller outside them.",
    {
        RestrictionMode.ENFORCE: "Refuse it: the verification answers FORBIDDEN.",
        RestrictionMode.REPORT_ONLY: "Let it through (VALID) but record it, so the owner can "
        "complete the lists before enforcing them.",
    },
)
described(
    DenialReason,
    "Which restriction refused a caller.",
    {
        DenialReason.IP_NOT_ALLOWED: "The key has allowedCidrs, and the caller's address was "
        "missing or outside them.",
        DenialReason.ORIGIN_NOT_ALLOWED: "The key has allowedOrigins, and the caller's origin "
        "was missing or not among them.",
    },
)
described(
    Permission,
    "Something a caller may do in an organization (see `Organization.viewerPermissions`).",
    {
        Permission.READ_ORGANIZATION: "Read the organization's id and name.",
        Permission.LIST_KEYS: "List the organization's keys and read any of them.",
        Permission.MANAGE_KEYS: "Create, roll, rename and delete the organization's keys.",
        Permission.LIST_MEMBERS: "List the members and pending invitations.",
        Permission.MANAGE_MEMBERS: "Invite as MEMBER or ADMIN, revoke invitations, move people "
        "between MEMBER and ADMIN, remove a MEMBER or ADMIN.",
        Permission.MANAGE_OWNERS: "Invite as OWNER, make or unmake an OWNER, remove an OWNER.",
        Permission.MANAGE_ORGANIZATION: "Rename or delete the organization, set its leak policy.",
        Permission.VIEW_AUDIT_LOG: "Read and export the organization's audit log "
        "(`auditEvents`, `GET /v1/organizations/{id}/audit-events`).",
        Permission.MANAGE_WEBHOOKS: "Register, change and delete webhook endpoints, rotate "
        "their secrets, send test events, and read and retry their deliveries.",
    },
)
described(
    InvitationStatus,
    "Where an invitation stands, decided from its timestamps.",
    {
        InvitationStatus.PENDING: "Sent; its link works until it is accepted, revoked or expires.",
        InvitationStatus.ACCEPTED: "The invited person joined.",
        InvitationStatus.REVOKED: "Withdrawn (or replaced by a newer invitation to the same "
        "email): its link no longer works.",
        InvitationStatus.EXPIRED: "Not accepted within INVITATION_TTL_SECONDS.",
    },
)
