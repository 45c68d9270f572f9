"""A rolled key cannot fight its owner: during its grace period it verifies and may read, and
every management mutation answers FORBIDDEN saying why. Keys made by a key record their maker
(`createdByKey`), so an owner cleaning up a leak sees what the leaked key made."""

from __future__ import annotations

import uuid
from typing import Any

from models.access import ROLLED_KEY_MESSAGE
from models.entities import ApiKey
from tests.harness import CREATE_API_KEY, Api
from tests.support import DELETE_API_KEY, ROLL_API_KEY

READ = """
query Read {
  organization { id name apiKeys(first: 10) { totalCount edges { node { id status } } } }
}
"""

KEY_CREATOR = """
query Creator($id: ID!) { apiKey(id: $id) { id createdByKey { id name } } }
"""

LISTED_CREATORS = """
query Listed { organization { apiKeys(first: 20) { edges { node { id createdByKey { id } } } } } }
"""


async def _rows(organization_id: str) -> list[dict[str, Any]]:
    """The organization's keys, but for `last_used_at` (using a key records that)."""
    rows = await ApiKey.filter(organization_id=uuid.UUID(organization_id)).order_by("id").values()
    return [{k: v for k, v in row.items() if k != "last_used_at"} for row in rows]


async def test_the_attack_sequence_fails_with_a_rolled_key(api: Api, db: None) -> None:
    # given an owner's secret key, rolled by the owner: the old token may have leaked
    owner = await api.sign_up()
    leaked_key, leaked = await api.create_key(owner, name="leaked")
    other_key, _ = await api.create_key(owner, name="other")
    data = await api.query(ROLL_API_KEY, {"input": {"id": leaked_key["id"]}}, token=owner.session)
    replacement = data["rollApiKey"]["apiKey"]
    replacement_token = data["rollApiKey"]["token"]
    before = await _rows(owner.organization_id)

    # when the attacker, holding the rolled key, tries each step of the attack
    attempts = [
        (CREATE_API_KEY, {"input": {"name": "backdoor", "type": "SECRET"}}),
        (ROLL_API_KEY, {"input": {"id": replacement["id"], "gracePeriodSeconds": 0}}),
        (DELETE_API_KEY, {"input": {"id": other_key["id"]}}),
        (DELETE_API_KEY, {"input": {"id": replacement["id"]}}),
        (ROLL_API_KEY, {"input": {"id": leaked_key["id"]}}),
    ]
    errors = [
        await api.error(document, variables, token=leaked) for document, variables in attempts
    ]

    # then every one is FORBIDDEN, saying why, and nothing changed
    for error in errors:
        assert error["extensions"]["code"] == "FORBIDDEN"
        assert error["message"] == ROLLED_KEY_MESSAGE
    assert await _rows(owner.organization_id) == before
    assert (await api.verify(replacement_token))["code"] == "VALID"
    assert (await api.verify(leaked))["code"] == "VALID"  # still in its grace period


async def test_a_rolled_key_may_still_read(api: Api, db: None) -> None:
    # given a rolled secret key inside its grace period
    owner = await api.sign_up()
    key, token = await api.create_key(owner, name="old")
    await api.query(ROLL_API_KEY, {"input": {"id": key["id"]}}, token=owner.session)

    # when it reads its organization and keys
    data = await api.query(READ, token=token)
    permissions = await api.query("query { organization { viewerPermissions } }", token=token)

    # then it sees them, and is told it may only read
    organization = data["organization"]
    assert organization["id"] == owner.organization_id
    statuses = {
        edge["node"]["id"]: edge["node"]["status"] for edge in organization["apiKeys"]["edges"]
    }
    assert statuses[key["id"]] == "ROLLED"
    assert permissions["organization"]["viewerPermissions"] == ["READ_ORGANIZATION", "LIST_KEYS"]


async def test_keys_made_by_a_key_name_their_maker(api: Api, db: None) -> None:
    # given an active secret key
    owner = await api.sign_up()
    maker, maker_token = await api.create_key(owner, name="automation")

    # when it creates a key, and rolls another one
    created = await api.query(
        CREATE_API_KEY, {"input": {"name": "made by a key"}}, token=maker_token
    )
    target, _ = await api.create_key(owner, name="target")
    rolled = await api.query(ROLL_API_KEY, {"input": {"id": target["id"]}}, token=maker_token)

    # then the new key and the roll's replacement name it; a person's keys name no key
    made = created["createApiKey"]["apiKey"]["id"]
    replacement = rolled["rollApiKey"]["apiKey"]["id"]
    for key_id in (made, replacement):
        data = await api.query(KEY_CREATOR, {"id": key_id}, token=owner.session)
        assert data["apiKey"]["createdByKey"] == {"id": maker["id"], "name": "automation"}
    listed = await api.query(LISTED_CREATORS, token=maker_token)
    creators = {
        e["node"]["id"]: e["node"]["createdByKey"]
        for e in listed["organization"]["apiKeys"]["edges"]
    }
    assert creators[made] == {"id": maker["id"]}
    assert creators[maker["id"]] is None
    assert creators[target["id"]] is None

    # and when the maker is deleted, the keys it made stay, naming no maker
    await api.query(DELETE_API_KEY, {"input": {"id": maker["id"]}}, token=owner.session)
    data = await api.query(KEY_CREATOR, {"id": made}, token=owner.session)
    assert data["apiKey"] == {"id": made, "createdByKey": None}
