"""`Organization.auditEvents`: who did what, from where, newest first, for OWNER and ADMIN."""

from __future__ import annotations

from typing import Any

from models.entities import Role
from tests.harness import Account, Api, Clock
from tests.support import add_member, assert_code, delete, roll

AUDIT_EVENTS = """
query Audit($id: ID, $first: Int, $after: String, $actions: [String!], $actorId: ID,
            $targetId: ID, $since: DateTime, $until: DateTime) {
  organization(id: $id) {
    auditEvents(first: $first, after: $after, actions: $actions, actorId: $actorId,
                targetId: $targetId, since: $since, until: $until) {
      edges { cursor node { id occurredAt action actor { type id name }
              target { type id name } clientAddress userAgent requestId details hash } }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""


async def _events(api: Api, token: str, organization_id: str | None, **args: Any) -> Any:
    data = await api.query(AUDIT_EVENTS, {"id": organization_id, **args}, token=token)
    return data["organization"]["auditEvents"]


async def test_a_roll_says_who_rolled_which_key_from_where(api: Api, clock: Clock) -> None:
    # given
    account = await api.sign_up("ada@example.com")
    key, _ = await api.create_key(account, name="Production server")
    clock.advance(minutes=1)
    # when
    response = await api.client.post(
        "/graphql",
        json={
            "query": "mutation R($input: RollApiKeyInput!) { rollApiKey(input: $input) {"
            " __typename ... on ApiKeyRolled { apiKey { id start } } } }",
            "variables": {"input": {"id": key["id"], "gracePeriodSeconds": 3600}},
        },
        headers={
            "Authorization": f"Bearer {account.session}",
            "X-Request-Id": "req-roll-1",
            "User-Agent": "ops-script/1.0 " + "x" * 400,
        },
    )
    rolled = (await response.json())["data"]["rollApiKey"]
    # then
    assert response.headers["X-Request-Id"] == "req-roll-1"
    page = await _events(api, account.session, account.organization_id)
    newest = page["edges"][0]["node"]
    assert newest["action"] == "api_key.rolled"
    assert newest["actor"] == {"type": "USER", "id": account.user_id, "name": "ada@example.com"}
    assert newest["target"] == {
        "type": "api_key",
        "id": key["id"],
        "name": "Production server",
    }
    assert newest["clientAddress"] == "127.0.0.1"
    assert newest["userAgent"] == ("ops-script/1.0 " + "x" * 400)[:256]
    assert newest["requestId"] == "req-roll-1"
    assert newest["details"] == {
        "start": key["start"],
        "oldKeyId": key["id"],
        "newKeyId": rolled["apiKey"]["id"],
        "newKeyStart": rolled["apiKey"]["start"],
        "graceEndsAt": "2030-01-01T13:01:00+00:00",
    }
    assert len(newest["hash"]) == 64
    actions = [edge["node"]["action"] for edge in page["edges"]]
    assert actions == [
        "api_key.rolled",
        "api_key.created",
        "api_key.created",
        "organization.created",
    ]


async def test_sign_up_records_the_organization_and_its_default_key_by_the_system(
    api: Api,
) -> None:
    account = await api.sign_up("grace@example.com")
    page = await _events(api, account.session, account.organization_id)
    default_key, founded = (edge["node"] for edge in page["edges"])
    assert founded["action"] == "organization.created"
    assert founded["actor"]["name"] == "grace@example.com"
    assert founded["target"]["type"] == "organization"
    assert default_key["action"] == "api_key.created"
    assert default_key["actor"] == {"type": "SYSTEM", "id": None, "name": "keyward"}
    assert default_key["target"]["id"] == account.default_key["id"]


async def test_a_secret_key_is_named_as_the_actor(api: Api) -> None:
    account = await api.sign_up()
    key, token = await api.create_key(account, name="CI")
    as_key = Account(
        email="", session=token, user_id="", organization_id=None, default_key={}  # type: ignore[arg-type]
    )
    created = await api.create_key(as_key, name="made by CI")
    page = await _events(api, token, None, first=1)
    event = page["edges"][0]["node"]
    assert event["target"]["id"] == created[0]["id"]
    assert event["actor"] == {"type": "API_KEY", "id": key["id"], "name": f"CI ({key['start']})"}


async def test_filters_and_pages(api: Api, clock: Clock) -> None:
    account = await api.sign_up()
    keys = []
    for n in range(3):
        clock.advance(minutes=1)
        keys.append((await api.create_key(account, name=f"k{n}"))[0])
    clock.advance(minutes=1)
    await delete(api, account.session, keys[0]["id"])
    org = account.organization_id
    # actions
    page = await _events(api, account.session, org, actions=["api_key.deleted"])
    assert [e["node"]["target"]["id"] for e in page["edges"]] == [keys[0]["id"]]
    # target
    page = await _events(api, account.session, org, targetId=keys[0]["id"])
    assert [e["node"]["action"] for e in page["edges"]] == ["api_key.deleted", "api_key.created"]
    # actor: the system made only the Default API Key
    page = await _events(api, account.session, org, actorId=account.user_id)
    assert len(page["edges"]) == 5
    # time window
    page = await _events(
        api, account.session, org, since="2030-01-01T12:01:30Z", until="2030-01-01T12:03:30Z"
    )
    assert [e["node"]["target"]["name"][:2] for e in page["edges"]] == ["k2", "k1"]
    # pages of two, newest first, no event twice
    seen: list[str] = []
    after = None
    for _ in range(5):
        page = await _events(api, account.session, org, first=2, after=after)
        seen += [edge["node"]["id"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == 6


async def test_bad_arguments_are_refused(api: Api) -> None:
    account = await api.sign_up()
    for args in ({"first": 0}, {"first": 101}, {"after": "bm9wZQ"}):
        error = await api.error(
            AUDIT_EVENTS, {"id": account.organization_id, **args}, account.session
        )
        assert_code(error, "BAD_USER_INPUT")


async def test_members_and_public_keys_may_not_read_it(api: Api, db: None) -> None:
    owner = await api.sign_up()
    member = await api.sign_up()
    await add_member(member, owner.organization_id, Role.MEMBER)
    error = await api.error(AUDIT_EVENTS, {"id": owner.organization_id}, member.session)
    assert_code(error, "FORBIDDEN")
    error = await api.error(AUDIT_EVENTS, {"id": None}, owner.default_key["token"])
    assert_code(error, "FORBIDDEN")


async def test_an_admin_reads_it_and_another_organization_is_not_found(api: Api, db: None) -> None:
    owner = await api.sign_up()
    admin = await api.sign_up()
    stranger = await api.sign_up()
    await add_member(admin, owner.organization_id, Role.ADMIN)
    page = await _events(api, admin.session, owner.organization_id)
    assert page["edges"]
    data = await api.query(AUDIT_EVENTS, {"id": owner.organization_id}, stranger.session)
    assert data["organization"] is None


async def test_unauthenticated_is_refused(api: Api) -> None:
    account = await api.sign_up()
    error = await api.error(AUDIT_EVENTS, {"id": account.organization_id})
    assert_code(error, "UNAUTHENTICATED")


async def test_every_key_change_of_the_seed_is_recorded(api: Api, clock: Clock) -> None:
    account = await api.sign_up()
    key, _ = await api.create_key(account)
    rolled = await roll(api, account.session, key["id"])
    await delete(api, account.session, rolled["apiKey"]["id"])
    page = await _events(api, account.session, account.organization_id)
    assert [e["node"]["action"] for e in page["edges"]][:3] == [
        "api_key.deleted",
        "api_key.rolled",
        "api_key.created",
    ]
