"""Renaming and deleting an organization (OWNERs only, through `Permission.MANAGE_ORGANIZATION`).

Deleting removes the organization's keys (revoked at once: their digests are gone), its
memberships and its invitations, in one statement through the foreign keys' ON DELETE CASCADE.
A user left without an organization can create one (`models.accounts.organization_create`).
"""

from __future__ import annotations

import uuid

from models.access import OrganizationAccess, Permission
from models.api_keys import clean_name
from models.entities import Organization
from models.errors import InvalidInput, OrganizationNotFound


async def organization_rename(*, access: OrganizationAccess, name: str) -> Organization:
    access.demand(Permission.MANAGE_ORGANIZATION)
    name = clean_name(name, "name")
    organization = access.organization
    if not await Organization.filter(id=organization.id).update(name=name):
        raise OrganizationNotFound()
    organization.name = name
    return organization


async def organization_delete(*, access: OrganizationAccess, confirm_name: str) -> uuid.UUID:
    """Delete the organization and everything in it; `confirm_name` must equal its name."""
    access.demand(Permission.MANAGE_ORGANIZATION)
    organization = access.organization
    if confirm_name.strip() != organization.name:
        raise InvalidInput("confirmName", "Type the organization's name exactly to confirm.")
    if not await Organization.filter(id=organization.id).delete():
        raise OrganizationNotFound()
    return organization.id
