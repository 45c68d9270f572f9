"""Renaming and deleting an organization, and its leak policy (OWNERs only, through
`Permission.MANAGE_ORGANIZATION`).

Deleting removes the organization's keys (revoked at once: their digests are gone), its
memberships and its invitations, in one statement through the foreign keys' ON DELETE CASCADE.
A user left without an organization can create one (`models.accounts.organization_create`).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from tortoise.transactions import in_transaction

from models.access import OrganizationAccess, Permission
from models.api_keys import clean_name
from models.audit import Target, actor_of, audit_record
from models.clock import utcnow
from models.entities import LeakPolicy, Organization
from models.errors import InvalidInput, OrganizationNotFound
from models.key_changes import key_changed, key_changes
from models.request_context import NO_REQUEST, RequestContext


async def organization_rename(
    *, access: OrganizationAccess, name: str, context: RequestContext = NO_REQUEST
) -> Organization:
    access.demand(Permission.MANAGE_ORGANIZATION)
    name = clean_name(name, "name")
    organization = access.organization
    actor = await actor_of(access.principal)
    async with in_transaction():
        if not await Organization.filter(id=organization.id).update(name=name):
            raise OrganizationNotFound()
        await audit_record(
            organization_id=organization.id,
            action="organization.renamed",
            actor=actor,
            target=Target("organization", str(organization.id), name),
            details={"from": organization.name, "to": name},
            context=context,
            now=utcnow(),
        )
    organization.name = name
    return organization


async def organization_delete(
    *, access: OrganizationAccess, confirm_name: str, context: RequestContext = NO_REQUEST
) -> uuid.UUID:
    """Delete the organization and everything in it; `confirm_name` must equal its name."""
    access.demand(Permission.MANAGE_ORGANIZATION)
    organization = access.organization
    if confirm_name.strip() != organization.name:
        raise InvalidInput("confirmName", "Type the organization's name exactly to confirm.")
    actor = await actor_of(access.principal)
    async with key_changes():
        if not await Organization.filter(id=organization.id).delete():
            raise OrganizationNotFound()
        await key_changed(organization_ids=[organization.id])  # its keys went with it
        # The chain outlives the organization (no foreign key), until AUDIT_RETENTION_DAYS.
        await audit_record(
            organization_id=organization.id,
            action="organization.deleted",
            actor=actor,
            target=Target("organization", str(organization.id), organization.name),
            details=None,
            context=context,
            now=utcnow(),
        )
    return organization.id


async def organization_leak_policy_set(
    *,
    access: OrganizationAccess,
    policy: LeakPolicy,
    now: datetime | None = None,
    context: RequestContext = NO_REQUEST,
) -> Organization:
    """What happens to the organization's secret keys found in public (`models.leaks`): REVOKE
    deletes them at once, NOTIFY only records and mails. OWNERs only. Recorded as
    `organization.updated` (from, to)."""
    access.demand(Permission.MANAGE_ORGANIZATION)
    organization = access.organization
    previous = organization.leak_policy
    actor = await actor_of(access.principal)
    async with in_transaction():
        if not await Organization.filter(id=organization.id).update(leak_policy=policy):
            raise OrganizationNotFound()
        await audit_record(
            organization_id=organization.id,
            action="organization.updated",
            actor=actor,
            target=Target("organization", str(organization.id), organization.name),
            details={"leakPolicy": {"from": previous.value, "to": policy.value}},
            context=context,
            now=now or utcnow(),
        )
    organization.leak_policy = policy
    return organization
