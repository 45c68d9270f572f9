"""updateLeakPolicy: OWNERs only."""

from __future__ import annotations

from typing import Annotated

import strawberry

from models import errors
from models.access import Permission
from models.entities import LeakPolicy
from models.organizations import organization_leak_policy_set
from schema.context import Info
from schema.errors import OrganizationNotFound
from schema.types import Organization, organization_named


@strawberry.input(description="The organization and what to do with its leaked secret keys.")
class UpdateLeakPolicyInput:
    organization_id: strawberry.ID = strawberry.field(description="The organization.")
    leak_policy: LeakPolicy = strawberry.field(description="REVOKE or NOTIFY.")


@strawberry.type(description="The organization has its new leak policy.")
class LeakPolicyUpdated:
    organization: Organization = strawberry.field(description="The organization, updated.")


UpdateLeakPolicyResult = Annotated[
    LeakPolicyUpdated | OrganizationNotFound,
    strawberry.union("UpdateLeakPolicyResult", description="What updateLeakPolicy did."),
]


async def update_leak_policy(
    info: Info,
    input: Annotated[
        UpdateLeakPolicyInput,
        strawberry.argument(description="The organization and its new leak policy."),
    ],
) -> UpdateLeakPolicyResult:
    access = await organization_named(info, input.organization_id, Permission.MANAGE_ORGANIZATION)
    if access is None:
        return OrganizationNotFound(message=errors.OrganizationNotFound.message)
    try:
        await organization_leak_policy_set(
            access=access,
            policy=input.leak_policy,
            now=info.context.now,
            context=info.context.request,
        )
    except errors.OrganizationNotFound as error:
        return OrganizationNotFound(message=error.message)
    return LeakPolicyUpdated(organization=Organization.from_access(access))
