"""Query.organization: one organization and its keys, newest first, in pages of at most 100."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any

import pytest

from models.entities import Role
from server import create_app
from tests.harness import Api, Clock
from tests.support import (
    ORGANIZATION,
    ORGANIZATION_NAME,
    add_member,
    assert_code,
    assert_unauthorized,
    mistyped,
    random_id,
    roll,
)


async def page(
    api: Api, token: str, organization_id: str | None, first: int | None, after: str | None
) -> dict[str, Any]:
    variables = {"id": organization_id, "first": first, "after": after}
    data = await api.query(ORGANIZATION, variables, token=token)
    return data["organization"]["apiKeys"]  # type: ignore[no-any-return]


async def test_an_organization_and_its_keys(api: Api, clock: Clock) -> None:
    # given an organization with a secret key made a minute after sign-up
    account = await api.sign_up(organizationName="Acme")
    clock.advance(minutes=1)
    key, _ = await api.create_key(account, name="billing")
    # when
    data = await api.query(ORGANIZATION, {"id": account.organization_id}, token=account.session)
    # then
    organization = data["organization"]
    assert organization["__typename"] == "Organization"
    assert (organization["id"], organization["name"]) == (account.organization_id, "Acme")
    assert (organization["createdAt"], organization["viewerRole"]) == (
        "2030-01-01T12:00:00Z",
        "OWNER",
    )
    keys = organization["apiKeys"]
    assert keys["__typename"] == "ApiKeyConnection"
    assert keys["totalCount"] == 2
    assert keys["pageInfo"]["hasNextPage"] is False
    assert [e["node"]["id"] for e in keys["edges"]] == [key["id"], account.default_key["id"]]
    assert keys["pageInfo"]["endCursor"] == keys["edges"][-1]["cursor"]


async def test_pages_walk_all_keys_newest_first(api: Api, clock: Clock) -> None:
    # given six keys, each a second newer than the last
    account = await api.sign_up()
    created = [account.default_key["id"]]
    for number in range(5):
        clock.advance(seconds=1)
        created.append((await api.create_key(account, name=f"k{number}"))[0]["id"])
    # when they are read two at a time
    seen: list[str] = []
    after: str | None = None
    pages = 0
    while True:
        keys = await page(api, account.session, account.organization_id, 2, after)
        pages += 1
        assert keys["totalCount"] == 6
        assert len(keys["edges"]) <= 2
        seen += [edge["node"]["id"] for edge in keys["edges"]]
        if not keys["pageInfo"]["hasNextPage"]:
            break
        after = keys["pageInfo"]["endCursor"]
    # then every key came once, newest first
    assert seen == list(reversed(created))
    assert pages == 3


async def test_pages_keep_sub_second_order(api: Api, clock: Clock) -> None:
    # given keys created a fraction of a second apart, across a whole second
    account = await api.sign_up()
    created = [account.default_key["id"]]
    for micros in (1, 499_999, 500_000, 1):
        clock.advance(microseconds=micros)
        created.append((await api.create_key(account, name=str(micros)))[0]["id"])
    # when read two at a time
    seen: list[str] = []
    after = None
    for _ in range(3):
        keys = await page(api, account.session, account.organization_id, 2, after)
        seen += [edge["node"]["id"] for edge in keys["edges"]]
        after = keys["pageInfo"]["endCursor"]
    # then
    assert seen == list(reversed(created))


async def test_pages_with_equal_timestamps_skip_and_repeat_nothing(api: Api) -> None:
    # given five keys created in the same instant
    account = await api.sign_up()
    ids = {account.default_key["id"]}
    for number in range(4):
        ids.add((await api.create_key(account, name=f"k{number}"))[0]["id"])
    # when read one at a time
    seen: list[str] = []
    after = None
    for _ in range(6):
        keys = await page(api, account.session, account.organization_id, 1, after)
        seen += [edge["node"]["id"] for edge in keys["edges"]]
        after = keys["pageInfo"]["endCursor"]
        if not keys["pageInfo"]["hasNextPage"]:
            break
    # then
    assert sorted(seen) == sorted(ids)


async def test_the_last_page_is_empty_past_the_end(api: Api) -> None:
    # given
    account = await api.sign_up()
    first = await page(api, account.session, account.organization_id, 1, None)
    # when
    rest = await page(
        api, account.session, account.organization_id, 1, first["pageInfo"]["endCursor"]
    )
    # then
    assert rest["edges"] == []
    assert rest["pageInfo"] == {"hasNextPage": False, "endCursor": None}
    assert rest["totalCount"] == 1


async def test_a_null_page_size_means_fifty(api: Api, clock: Clock) -> None:
    # given 51 keys
    account = await api.sign_up()
    for number in range(50):
        clock.advance(seconds=1)
        await api.create_key(account, name=f"k{number}", type="PUBLIC")
    # when the page size is sent as null
    keys = await page(api, account.session, account.organization_id, None, None)
    # then
    assert (len(keys["edges"]), keys["totalCount"]) == (50, 51)
    assert keys["pageInfo"]["hasNextPage"] is True


async def test_a_hundred_is_the_largest_page(api: Api) -> None:
    # given
    account = await api.sign_up()
    # when
    keys = await page(api, account.session, account.organization_id, 100, None)
    # then
    assert keys["totalCount"] == 1


@pytest.mark.parametrize("first", [-1, 101])
async def test_a_page_size_out_of_range_is_bad_user_input(api: Api, first: int) -> None:
    # given
    account = await api.sign_up()
    # when
    error = await api.error(
        ORGANIZATION, {"id": account.organization_id, "first": first}, token=account.session
    )
    # then
    assert_code(error, "BAD_USER_INPUT")
    assert "100" in error["message"]


@pytest.mark.parametrize("cursor", ["garbage", "", "bm90IGEgY3Vyc29y"])
async def test_a_cursor_we_did_not_give_is_bad_user_input(api: Api, cursor: str) -> None:
    # given
    account = await api.sign_up()
    # when
    error = await api.error(
        ORGANIZATION, {"id": account.organization_id, "after": cursor}, token=account.session
    )
    # then
    assert_code(error, "BAD_USER_INPUT")


async def test_replaced_by_links_a_rolled_key_to_its_replacement(api: Api, clock: Clock) -> None:
    # given a rolled key
    account = await api.sign_up()
    clock.advance(seconds=1)
    key, _ = await api.create_key(account)
    clock.advance(seconds=1)
    rolled = await roll(api, account.session, key["id"])
    # when
    keys = await page(api, account.session, account.organization_id, 10, None)
    # then the replacement is newest, and the old key points at it
    nodes = [edge["node"] for edge in keys["edges"]]
    assert [(n["id"], n["status"]) for n in nodes] == [
        (rolled["apiKey"]["id"], "ACTIVE"),
        (key["id"], "ROLLED"),
        (account.default_key["id"], "ACTIVE"),
    ]
    assert nodes[1]["replacedBy"] == {"id": rolled["apiKey"]["id"]}
    assert nodes[0]["replacedBy"] is None and nodes[2]["replacedBy"] is None


async def test_public_tokens_are_listed_and_secret_ones_never(api: Api) -> None:
    # given
    account = await api.sign_up()
    await api.create_key(account, name="s")
    # when
    keys = await page(api, account.session, account.organization_id, 10, None)
    # then
    tokens = {e["node"]["type"]: e["node"]["token"] for e in keys["edges"]}
    assert tokens == {"PUBLIC": account.default_key["token"], "SECRET": None}


async def test_an_api_key_may_leave_the_id_out(api: Api) -> None:
    # given a secret key
    account = await api.sign_up(organizationName="Acme")
    _, token = await api.create_key(account)
    # when
    data = await api.query(ORGANIZATION, {}, token=token)
    # then
    organization = data["organization"]
    assert (organization["id"], organization["name"]) == (account.organization_id, "Acme")
    assert organization["viewerRole"] is None
    assert organization["apiKeys"]["totalCount"] == 2


async def test_a_user_without_an_id_gets_null(api: Api) -> None:
    # given / when
    account = await api.sign_up()
    # then
    assert await api.query(ORGANIZATION_NAME, {}, token=account.session) == {"organization": None}


async def test_a_member_lists_keys(api: Api, db: None) -> None:
    # given a MEMBER
    owner = await api.sign_up()
    member = await api.sign_up()
    await add_member(member, owner.organization_id, Role.MEMBER)
    # when
    keys = await page(api, member.session, owner.organization_id, 10, None)
    # then
    assert [e["node"]["id"] for e in keys["edges"]] == [owner.default_key["id"]]


async def test_organization_needs_a_credential(api: Api) -> None:
    # given
    account = await api.sign_up()
    # when
    error = await api.error(ORGANIZATION_NAME, {"id": account.organization_id})
    # then
    assert_code(error, "UNAUTHENTICATED")


async def test_organization_with_a_bad_credential_is_401(api: Api) -> None:
    # given
    account = await api.sign_up()
    # when
    status, body = await api.raw(
        ORGANIZATION_NAME, {"id": account.organization_id}, token=mistyped(account.session)
    )
    # then
    assert_unauthorized(status, body, "MALFORMED")


async def test_another_organization_is_null_like_a_missing_one(api: Api) -> None:
    # given another organization
    other = await api.sign_up()
    account = await api.sign_up()
    _, secret = await api.create_key(account)
    for credential in (account.session, secret, account.default_key["token"]):
        # when
        theirs = await api.query(ORGANIZATION_NAME, {"id": other.organization_id}, token=credential)
        missing = await api.query(ORGANIZATION_NAME, {"id": random_id()}, token=credential)
        garbage = await api.query(ORGANIZATION_NAME, {"id": "not-an-id"}, token=credential)
        # then
        assert theirs == missing == garbage == {"organization": None}


ROLL_GRACE = "query Q($id: ID) { organization(id: $id) { rollGracePeriodSeconds } }"


@pytest.mark.parametrize("grace", [43_200, 600])
async def test_the_roll_grace_a_rollApiKey_without_one_gets(
    aiohttp_client: Any, settings: Any, clock: Clock, passwords: Any, grace: int
) -> None:
    # given a server whose ROLL_GRACE_SECONDS is `grace`
    app = create_app(
        dataclasses.replace(settings, roll_grace_seconds=grace), clock=clock, passwords=passwords
    )
    api = Api(await aiohttp_client(app))
    account = await api.sign_up()
    key, _ = await api.create_key(account)
    # when the organization is read and a key rolled without a grace period
    data = await api.query(ROLL_GRACE, {"id": account.organization_id}, token=account.session)
    rolled = await roll(api, account.session, key["id"])
    # then both say the same grace
    assert data["organization"]["rollGracePeriodSeconds"] == grace
    assert rolled["__typename"] == "ApiKeyRolled"
    expires_at = datetime.fromisoformat(rolled["rolledApiKey"]["expiresAt"])
    assert expires_at == clock.now + timedelta(seconds=grace)
