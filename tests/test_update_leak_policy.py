"""updateLeakPolicy: an OWNER sets what happens to the organization's leaked secret keys; the
organization reads it back as `leakPolicy` (REVOKE until set), the audit log records the change,
an ADMIN is refused and another organization is not found."""

from __future__ import annotations

import uuid

from models.audit_entities import AuditEvent
from models.entities import Role
from tests.harness import Api
from tests.leak_support import SET_LEAK_POLICY
from tests.support import add_member, assert_code

LEAK_POLICY = "query LeakPolicy($id: ID) { organization(id: $id) { leakPolicy } }"


async def test_an_owner_sets_the_leak_policy(api: Api, db: None) -> None:
    # given an owner, whose organization revokes leaked keys by default
    owner = await api.sign_up()
    read = await api.query(LEAK_POLICY, {"id": owner.organization_id}, token=owner.session)
    assert read["organization"]["leakPolicy"] == "REVOKE"
    # when they choose NOTIFY
    data = await api.query(
        SET_LEAK_POLICY,
        {"input": {"organizationId": owner.organization_id, "leakPolicy": "NOTIFY"}},
        token=owner.session,
    )
    # then the organization says so, now and on the next read, and the audit log records it
    result = data["updateLeakPolicy"]
    assert result == {
        "__typename": "LeakPolicyUpdated",
        "organization": {"id": owner.organization_id, "leakPolicy": "NOTIFY"},
    }
    read = await api.query(LEAK_POLICY, {"id": owner.organization_id}, token=owner.session)
    assert read["organization"]["leakPolicy"] == "NOTIFY"
    [event] = await AuditEvent.filter(
        organization_id=uuid.UUID(owner.organization_id), action="organization.updated"
    )
    assert event.details == {"leakPolicy": {"from": "REVOKE", "to": "NOTIFY"}}


async def test_an_admin_may_not_and_another_organization_is_not_found(api: Api, db: None) -> None:
    # given an owner's organization with an admin, and a stranger
    owner, admin, stranger = await api.sign_up(), await api.sign_up(), await api.sign_up()
    await add_member(admin, owner.organization_id, Role.ADMIN)
    variables = {"input": {"organizationId": owner.organization_id, "leakPolicy": "NOTIFY"}}
    # when the admin and the stranger try
    refused = await api.error(SET_LEAK_POLICY, variables, token=admin.session)
    data = await api.query(SET_LEAK_POLICY, variables, token=stranger.session)
    # then the admin is refused, the stranger finds nothing, and the policy is unchanged
    assert_code(refused, "FORBIDDEN")
    assert data["updateLeakPolicy"]["__typename"] == "OrganizationNotFound"
    read = await api.query(LEAK_POLICY, {"id": owner.organization_id}, token=owner.session)
    assert read["organization"]["leakPolicy"] == "REVOKE"


async def test_unauthenticated_and_bad_input(api: Api) -> None:
    # given nobody signed in, and a policy that does not exist
    owner = await api.sign_up()
    # when
    anonymous = await api.error(
        SET_LEAK_POLICY,
        {"input": {"organizationId": owner.organization_id, "leakPolicy": "REVOKE"}},
    )
    status, body = await api.raw(
        SET_LEAK_POLICY,
        {"input": {"organizationId": owner.organization_id, "leakPolicy": "IGNORE"}},
        token=owner.session,
    )
    # then
    assert_code(anonymous, "UNAUTHENTICATED")
    assert status != 500 and "IGNORE" in body["errors"][0]["message"]
