"""Who may do what is decided once, in `models/access.py`: the domain refuses calls without an
access object, the principal is fixed for the whole request, and the API tells each viewer what
it may do instead of clients keeping their own copy of the table."""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from models import api_keys
from models.access import (
    KEY_PERMISSIONS,
    ROLE_PERMISSIONS,
    KeyAccess,
    OrganizationAccess,
    Permission,
    UserPrincipal,
)
from models.entities import ApiKeyType, Organization, Role
from tests.harness import PASSWORD, Api
from tests.support import add_member

SIGN_IN_THEN_CREATE = """
mutation SignInThenCreate($signIn: SignInInput!, $create: CreateApiKeyInput!) {
  signIn(input: $signIn) { __typename ... on SignedIn { sessionToken } }
  createApiKey(input: $create) { __typename ... on ApiKeyCreated { token } }
}
"""

VIEWER = """
query Viewer($id: ID) {
  organization(id: $id) {
    viewerRole viewerPermissions rollGracePeriodSeconds maxRollGracePeriodSeconds
  }
}
"""

CREATE = """
mutation Create($input: CreateApiKeyInput!) {
  createApiKey(input: $input) {
    __typename
    ... on InvalidInput { field message problems { field message } }
  }
}
"""

SIGN_UP = """
mutation SignUp($input: SignUpInput!) {
  signUp(input: $input) {
    __typename
    ... on InvalidInput { field message problems { field message } }
  }
}
"""


async def test_a_sign_in_does_not_change_who_the_request_is(api: Api) -> None:
    # given a user, and a document that signs in and then creates a key, sent with no credential
    account = await api.sign_up()
    variables = {
        "signIn": {"email": account.email, "password": PASSWORD},
        "create": {"organizationId": account.organization_id, "name": "sneaky"},
    }
    # when
    status, body = await api.raw(SIGN_IN_THEN_CREATE, variables)
    # then the second field is refused as unauthenticated (its non-null result nulls `data`)
    assert status == 200, body
    assert body["data"] is None
    [error] = body["errors"]
    assert error["path"] == ["createApiKey"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    # and no key was made
    listed = await api.query(
        "query($id: ID) { organization(id: $id) { apiKeys { totalCount } } }",
        {"id": account.organization_id},
        token=account.session,
    )
    assert listed["organization"]["apiKeys"]["totalCount"] == 1


KEYS = ["READ_ORGANIZATION", "LIST_KEYS", "MANAGE_KEYS"]
ADMIN = [*KEYS, "LIST_MEMBERS", "MANAGE_MEMBERS", "VIEW_AUDIT_LOG", "MANAGE_WEBHOOKS"]


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (Role.OWNER, [*ADMIN[:-2], "MANAGE_OWNERS", "MANAGE_ORGANIZATION", *ADMIN[-2:]]),
        (Role.ADMIN, ADMIN),
        (Role.MEMBER, ["READ_ORGANIZATION", "LIST_KEYS", "LIST_MEMBERS"]),
    ],
)
async def test_each_role_is_told_what_it_may_do(
    api: Api, db: None, role: Role, expected: list[str]
) -> None:
    # given a second person in an organization with `role`
    owner = await api.sign_up()
    member = await api.sign_up()
    await add_member(member, owner.organization_id, role)
    # when they ask
    data = await api.query(VIEWER, {"id": owner.organization_id}, token=member.session)
    # then they are told their role and what it allows, read from the one table
    assert data["organization"]["viewerRole"] == role.value
    assert data["organization"]["viewerPermissions"] == expected
    assert data["organization"]["maxRollGracePeriodSeconds"] == 604_800
    assert data["organization"]["rollGracePeriodSeconds"] == 43_200


async def test_a_secret_key_is_told_what_it_may_do(api: Api) -> None:
    account = await api.sign_up()
    _, secret = await api.create_key(account)
    data = await api.query(VIEWER, {}, token=secret)
    assert data["organization"]["viewerRole"] is None
    assert data["organization"]["viewerPermissions"] == [
        "READ_ORGANIZATION",
        "LIST_KEYS",
        "MANAGE_KEYS",
        "VIEW_AUDIT_LOG",
    ]


def test_the_permission_table_is_the_one_the_api_reports() -> None:
    assert ROLE_PERMISSIONS[Role.MEMBER] < ROLE_PERMISSIONS[Role.ADMIN]
    assert ROLE_PERMISSIONS[Role.ADMIN] < ROLE_PERMISSIONS[Role.OWNER] == frozenset(Permission)
    # A secret key manages its organization's keys, never its people or its settings; it may
    # export the audit log (for SIEMs).
    assert KEY_PERMISSIONS[ApiKeyType.SECRET] == {
        Permission.READ_ORGANIZATION,
        Permission.LIST_KEYS,
        Permission.MANAGE_KEYS,
        Permission.VIEW_AUDIT_LOG,
    }
    assert KEY_PERMISSIONS[ApiKeyType.PUBLIC] == {Permission.READ_ORGANIZATION}


def test_the_key_operations_take_an_access_object_and_nothing_else() -> None:
    # The signatures show it: no organization id or key id a caller could pass unchecked.
    expected: dict[Callable[..., Any], type] = {
        api_keys.api_key_create: OrganizationAccess,
        api_keys.api_key_list: OrganizationAccess,
        api_keys.api_key_roll: KeyAccess,
        api_keys.api_key_delete: KeyAccess,
    }
    for operation, access_type in expected.items():
        parameters = inspect.signature(operation, eval_str=True).parameters
        assert parameters["access"].annotation is access_type, operation.__name__
        assert not {"organization_id", "key_id"} & set(parameters), operation.__name__


def test_an_access_object_cannot_be_made_outside_models_access() -> None:
    principal = UserPrincipal(user_id=uuid.uuid4(), session_id=uuid.uuid4())
    with pytest.raises(TypeError, match="models.access"):
        OrganizationAccess(
            principal=principal,
            organization=Organization(id=uuid.uuid4(), name="x"),
            role=Role.OWNER,
            permissions=frozenset(Permission),
            seal=object(),
        )


async def test_every_bad_field_is_reported_at_once(api: Api) -> None:
    # given a key with no name and a date without a time zone's offset
    account = await api.sign_up()
    # when
    data = await api.query(
        CREATE,
        {
            "input": {
                "organizationId": account.organization_id,
                "name": "  ",
                "expiresAt": "2020-01-01T00:00:00Z",
            }
        },
        token=account.session,
    )
    # then both problems come back in one answer, the first repeated as field/message
    result = data["createApiKey"]
    assert result["__typename"] == "InvalidInput"
    assert [p["field"] for p in result["problems"]] == ["name", "expiresAt"]
    assert (result["field"], result["message"]) == (
        result["problems"][0]["field"],
        result["problems"][0]["message"],
    )


async def test_a_sign_up_form_with_three_bad_fields_gets_three_problems(api: Api) -> None:
    data = await api.query(
        SIGN_UP,
        {"input": {"email": "not-an-email", "password": "short", "organizationName": "x" * 101}},
    )
    result = data["signUp"]
    assert result["__typename"] == "InvalidInput"
    assert [p["field"] for p in result["problems"]] == ["email", "password", "organizationName"]
