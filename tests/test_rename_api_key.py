"""renameApiKey: a key's new name; its token, status and dates stay as they are."""

from __future__ import annotations

from typing import Any

from models.entities import Role
from tests.harness import API_KEY_FIELDS, Api
from tests.support import add_member, api_key, assert_code, delete, random_id

RENAME_API_KEY = f"""
mutation RenameApiKey($input: RenameApiKeyInput!) {{
  renameApiKey(input: $input) {{
    __typename
    ... on ApiKeyRenamed {{ apiKey {{ {API_KEY_FIELDS} }} }}
    ... on Error {{ message }}
    ... on InvalidInput {{ field problems {{ field message }} }}
  }}
}}
"""


async def rename(api: Api, token: str, key_id: str, name: str) -> dict[str, Any]:
    data = await api.query(RENAME_API_KEY, {"input": {"id": key_id, "name": name}}, token=token)
    return data["renameApiKey"]  # type: ignore[no-any-return]


async def test_rename_changes_the_name_and_nothing_else(api: Api) -> None:
    # given a secret key in use
    account = await api.sign_up()
    key, token = await api.create_key(account, name="staging")
    # when it is renamed, with spaces around the new name
    result = await rename(api, account.session, key["id"], "  production  ")
    # then the name is trimmed, everything else is as it was, and the key still works
    assert result["__typename"] == "ApiKeyRenamed"
    assert result["apiKey"] == {**key, "name": "production"}
    assert await api_key(api, account.session, key["id"]) == {
        "__typename": "ApiKey",
        **key,
        "name": "production",
    }
    assert (await api.verify(token))["name"] == "production"


async def test_a_secret_key_may_rename_a_key_of_its_organization(api: Api) -> None:
    # given
    account = await api.sign_up()
    _, secret = await api.create_key(account, name="automation")
    # when
    result = await rename(api, secret, account.default_key["id"], "Website")
    # then
    assert result["__typename"] == "ApiKeyRenamed"
    assert result["apiKey"]["name"] == "Website"
    assert result["apiKey"]["isDefault"] is True


async def test_bad_names_are_invalid_input_and_change_nothing(api: Api) -> None:
    # given
    account = await api.sign_up()
    key, _ = await api.create_key(account, name="staging")
    for bad in ("", "   ", "x" * 101):
        # when
        result = await rename(api, account.session, key["id"], bad)
        # then
        assert result["__typename"] == "InvalidInput", bad
        assert result["field"] == "name"
        assert [problem["field"] for problem in result["problems"]] == ["name"]
        assert "100" in result["message"]
    assert (await api_key(api, account.session, key["id"]) or {})["name"] == "staging"
    # a name of exactly 100 characters is accepted whole
    result = await rename(api, account.session, key["id"], "y" * 100)
    assert result["apiKey"]["name"] == "y" * 100


async def test_rename_needs_a_credential(api: Api) -> None:
    # given
    account = await api.sign_up()
    key, _ = await api.create_key(account, name="staging")
    # when
    error = await api.error(RENAME_API_KEY, {"input": {"id": key["id"], "name": "x"}})
    # then
    assert_code(error, "UNAUTHENTICATED")
    assert (await api_key(api, account.session, key["id"]) or {})["name"] == "staging"


async def test_another_organizations_key_is_not_found(api: Api) -> None:
    # given another organization's key
    other = await api.sign_up()
    theirs, _ = await api.create_key(other, name="theirs")
    account = await api.sign_up()
    _, secret = await api.create_key(account)
    for credential in (account.session, secret):
        # when
        result = await rename(api, credential, theirs["id"], "mine now")
        missing = await rename(api, credential, random_id(), "mine now")
        # then it is answered exactly like a key that does not exist
        assert result == missing
        assert result["__typename"] == "ApiKeyNotFound"
    assert (await api_key(api, other.session, theirs["id"]) or {})["name"] == "theirs"


async def test_a_deleted_or_malformed_id_is_not_found(api: Api) -> None:
    # given a deleted key
    account = await api.sign_up()
    key, _ = await api.create_key(account)
    await delete(api, account.session, key["id"])
    # when
    gone = await rename(api, account.session, key["id"], "again")
    malformed = await rename(api, account.session, "not-a-uuid", "again")
    # then
    assert gone["__typename"] == malformed["__typename"] == "ApiKeyNotFound"
    assert gone["message"]


async def test_a_member_may_not_rename(api: Api, db: None) -> None:
    # given a member of the organization
    owner = await api.sign_up()
    member = await api.sign_up()
    await add_member(member, owner.organization_id, Role.MEMBER)
    key, _ = await api.create_key(owner, name="staging")
    # when
    error = await api.error(
        RENAME_API_KEY, {"input": {"id": key["id"], "name": "mine"}}, token=member.session
    )
    # then
    assert_code(error, "FORBIDDEN")
    assert (await api_key(api, owner.session, key["id"]) or {})["name"] == "staging"


async def test_a_public_key_may_not_rename(api: Api) -> None:
    # given the public Default API Key
    account = await api.sign_up()
    key, _ = await api.create_key(account, name="staging")
    # when
    error = await api.error(
        RENAME_API_KEY,
        {"input": {"id": key["id"], "name": "mine"}},
        token=account.default_key["token"],
    )
    # then
    assert_code(error, "FORBIDDEN")
    assert (await api_key(api, account.session, key["id"]) or {})["name"] == "staging"
