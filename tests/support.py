"""GraphQL documents and small helpers shared by the operation tests.

Documents are constants taking variables; tests never format values into them.
"""

from __future__ import annotations

import uuid
from typing import Any

from models import tokens
from models.entities import Membership, Role
from tests.harness import API_KEY_FIELDS, Account, Api, Clock

ROLL_API_KEY = f"""
mutation RollApiKey($input: RollApiKeyInput!) {{
  rollApiKey(input: $input) {{
    __typename
    ... on ApiKeyRolled {{
      token
      apiKey {{ {API_KEY_FIELDS} }}
      rolledApiKey {{ {API_KEY_FIELDS} }}
    }}
    ... on Error {{ message }}
    ... on InvalidInput {{ field }}
  }}
}}
"""

DELETE_API_KEY = """
mutation DeleteApiKey($input: DeleteApiKeyInput!) {
  deleteApiKey(input: $input) {
    __typename
    ... on ApiKeyDeleted { deletedApiKeyId }
    ... on Error { message }
  }
}
"""

CREATE_ORGANIZATION = f"""
mutation CreateOrganization($input: CreateOrganizationInput!) {{
  createOrganization(input: $input) {{
    __typename
    ... on OrganizationCreated {{
      organization {{ id name createdAt viewerRole
        apiKeys {{ totalCount edges {{ node {{ {API_KEY_FIELDS} }} }} }} }}
    }}
    ... on Error {{ message }}
    ... on InvalidInput {{ field }}
  }}
}}
"""

SIGN_OUT = "mutation SignOut { signOut }"

ME = """
query Me {
  me { __typename id email createdAt
    organizations { edges { node { __typename id name viewerRole } } } }
}
"""

ORGANIZATION = f"""
query Organization($id: ID, $first: Int, $after: String) {{
  organization(id: $id) {{
    __typename id name createdAt viewerRole
    apiKeys(first: $first, after: $after) {{
      __typename totalCount
      pageInfo {{ hasNextPage endCursor }}
      edges {{ cursor node {{ __typename {API_KEY_FIELDS} }} }}
    }}
  }}
}}
"""

ORGANIZATION_NAME = """
query OrganizationName($id: ID) { organization(id: $id) { __typename id name } }
"""

API_KEY = f"""
query ApiKey($id: ID!) {{ apiKey(id: $id) {{ __typename {API_KEY_FIELDS} }} }}
"""

VERIFY_API_KEY = """
query VerifyApiKey($token: String!) {
  verifyApiKey(token: $token) {
    __typename valid code keyId organizationId type expiresAt
  }
}
"""


def unknown_token(kind: tokens.TokenKind = tokens.TokenKind.SECRET_KEY) -> str:
    """A well-formed token (right shape and checksum) that was never issued."""
    return tokens.generate(kind)


def mistyped(token: str) -> str:
    """`token` with one character of its body changed: its checksum no longer matches."""
    at = token.rindex("_") + 5
    return token[:at] + ("a" if token[at] != "a" else "b") + token[at + 1 :]


def random_id() -> str:
    return str(uuid.uuid4())


async def add_member(account: Account, organization_id: str, role: Role) -> None:
    """Make `account`'s user a member of an organization (there is no invite mutation yet).
    Needs the `db` fixture."""
    await Membership.create(
        user_id=uuid.UUID(account.user_id),
        organization_id=uuid.UUID(organization_id),
        role=role,
        created_at=Clock().now,
    )


async def roll(api: Api, account_token: str, key_id: str, **extra: Any) -> dict[str, Any]:
    data = await api.query(ROLL_API_KEY, {"input": {"id": key_id, **extra}}, token=account_token)
    return data["rollApiKey"]  # type: ignore[no-any-return]


async def delete(api: Api, account_token: str, key_id: str) -> dict[str, Any]:
    data = await api.query(DELETE_API_KEY, {"input": {"id": key_id}}, token=account_token)
    return data["deleteApiKey"]  # type: ignore[no-any-return]


async def api_key(api: Api, token: str, key_id: str) -> dict[str, Any] | None:
    data = await api.query(API_KEY, {"id": key_id}, token=token)
    return data["apiKey"]  # type: ignore[no-any-return]


async def keys_of(api: Api, token: str, organization_id: str | None) -> list[dict[str, Any]]:
    data = await api.query(ORGANIZATION, {"id": organization_id, "first": 100}, token=token)
    return [edge["node"] for edge in data["organization"]["apiKeys"]["edges"]]


def assert_unauthorized(status: int, body: dict[str, Any], reason: str) -> None:
    """A present but bad credential: 401 before any resolver ran, with the reason."""
    assert status == 401, body
    assert "data" not in body, body
    assert [error["extensions"] for error in body["errors"]] == [
        {"code": "UNAUTHENTICATED", "reason": reason}
    ], body


def assert_code(error: dict[str, Any], code: str) -> None:
    assert error["extensions"]["code"] == code, error
