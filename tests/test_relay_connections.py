"""Relay cursor connections: `Organization.apiKeys` and `User.organizations` page forward with
`first`/`after` and backward with `last`/`before`, answer the full `PageInfo`, accept `first: 0`,
and refuse a bad or forged cursor as BAD_USER_INPUT on the argument that carried it."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import pytest

from models.entities import ApiKey
from models.key_listing import page_sql
from models.pagination import PageRequest
from tests.harness import ON_POSTGRES, Account, Api, Clock
from tests.support import CREATE_ORGANIZATION, assert_code

KEYS = """
query Keys($id: ID, $first: Int, $after: String, $last: Int, $before: String) {
  organization(id: $id) {
    apiKeys(first: $first, after: $after, last: $last, before: $before) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node { id name } }
    }
  }
}
"""

ORGANIZATIONS = """
query Organizations($first: Int, $after: String, $last: Int, $before: String) {
  me {
    organizations(first: $first, after: $after, last: $last, before: $before) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node { id name } }
    }
  }
}
"""


async def keys(api: Api, account: Account, **arguments: Any) -> dict[str, Any]:
    data = await api.query(KEYS, {"id": account.organization_id, **arguments}, account.session)
    return data["organization"]["apiKeys"]  # type: ignore[no-any-return]


def names(connection: dict[str, Any]) -> list[str]:
    return [edge["node"]["name"] for edge in connection["edges"]]


async def five_keys(api: Api, clock: Clock) -> Account:
    """An organization whose keys, newest first, are k4 k3 k2 k1 k0 and the Default API Key."""
    account = await api.sign_up()
    for number in range(5):
        clock.advance(seconds=1)
        await api.create_key(account, name=f"k{number}")
    return account


async def test_paging_forward_visits_every_key_once(api: Api, clock: Clock) -> None:
    # given
    account = await five_keys(api, clock)
    # when
    first = await keys(api, account, first=2)
    second = await keys(api, account, first=2, after=first["pageInfo"]["endCursor"])
    third = await keys(api, account, first=2, after=second["pageInfo"]["endCursor"])
    # then
    assert [names(first), names(second), names(third)] == [
        ["k4", "k3"],
        ["k2", "k1"],
        ["k0", "Default API Key"],
    ]
    flags = [
        (page["pageInfo"]["hasPreviousPage"], page["pageInfo"]["hasNextPage"])
        for page in (first, second, third)
    ]
    assert flags == [(False, True), (True, True), (True, False)]
    assert first["pageInfo"]["startCursor"] == first["edges"][0]["cursor"]
    assert first["pageInfo"]["endCursor"] == first["edges"][-1]["cursor"]
    assert {page["totalCount"] for page in (first, second, third)} == {6}


async def test_paging_backward_visits_every_key_once(api: Api, clock: Clock) -> None:
    # given
    account = await five_keys(api, clock)
    # when
    last = await keys(api, account, last=2)
    before = await keys(api, account, last=2, before=last["pageInfo"]["startCursor"])
    earliest = await keys(api, account, last=2, before=before["pageInfo"]["startCursor"])
    # then each page keeps list order, and the pages run back to the start
    assert [names(last), names(before), names(earliest)] == [
        ["k0", "Default API Key"],
        ["k2", "k1"],
        ["k4", "k3"],
    ]
    flags = [
        (page["pageInfo"]["hasPreviousPage"], page["pageInfo"]["hasNextPage"])
        for page in (last, before, earliest)
    ]
    assert flags == [(True, False), (True, True), (False, True)]


async def test_back_from_a_forward_page_is_the_page_before(api: Api, clock: Clock) -> None:
    # given the second page going forward
    account = await five_keys(api, clock)
    first = await keys(api, account, first=2)
    second = await keys(api, account, first=2, after=first["pageInfo"]["endCursor"])
    # when
    back = await keys(api, account, last=2, before=second["pageInfo"]["startCursor"])
    # then
    assert back["edges"] == first["edges"]


async def test_after_and_before_together_bound_a_window(api: Api, clock: Clock) -> None:
    # given the cursors of k4 and k0
    account = await five_keys(api, clock)
    everything = await keys(api, account, first=6)
    cursors = {edge["node"]["name"]: edge["cursor"] for edge in everything["edges"]}
    # when
    window = await keys(api, account, first=10, after=cursors["k4"], before=cursors["k0"])
    # then
    assert names(window) == ["k3", "k2", "k1"]
    assert window["pageInfo"]["hasNextPage"] is False


@pytest.mark.parametrize("argument", ["first", "last"])
async def test_a_page_of_zero_is_empty_but_says_what_lies_beyond(api: Api, argument: str) -> None:
    # given
    account = await api.sign_up()
    # when
    page = await keys(api, account, **{argument: 0})
    # then
    assert page["edges"] == []
    assert page["totalCount"] == 1
    beyond = "hasNextPage" if argument == "first" else "hasPreviousPage"
    assert page["pageInfo"][beyond] is True
    assert page["pageInfo"]["startCursor"] is None and page["pageInfo"]["endCursor"] is None


async def test_first_and_last_together_are_refused(api: Api) -> None:
    account = await api.sign_up()
    error = await api.error(
        KEYS, {"id": account.organization_id, "first": 1, "last": 1}, token=account.session
    )
    assert_code(error, "BAD_USER_INPUT")
    assert error["extensions"]["field"] == "last"


@pytest.mark.parametrize(("argument", "size"), [("last", -1), ("last", 101), ("first", 101)])
async def test_a_size_out_of_range_is_refused_on_its_argument(
    api: Api, argument: str, size: int
) -> None:
    account = await api.sign_up()
    error = await api.error(
        KEYS, {"id": account.organization_id, argument: size}, token=account.session
    )
    assert_code(error, "BAD_USER_INPUT")
    assert error["extensions"]["field"] == argument


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


FORGED = {
    "garbage": "%%%",
    "empty": "",
    "not UTF-8": "////",
    "no separators": _cursor("keys"),
    # 9999-12-31 23:59:59 at UTC-5 is in the year 10000 in UTC
    "time past UTC's range": _cursor(f"keys|9999-12-31T23:59:59-05:00|{uuid.uuid4()}"),
    "time before UTC's range": _cursor(f"keys|0001-01-01T00:00:00+05:00|{uuid.uuid4()}"),
    "time without an offset": _cursor(f"keys|2030-01-01T12:00:00|{uuid.uuid4()}"),
    "not a UUID": _cursor("keys|2030-01-01T12:00:00+00:00|42"),
    "another list's": _cursor(f"organizations|2030-01-01T12:00:00+00:00|{uuid.uuid4()}"),
    "too long": "A" * 400,
}


@pytest.mark.parametrize("argument", ["after", "before"])
@pytest.mark.parametrize("forged", FORGED)
async def test_a_bad_cursor_is_bad_user_input_on_its_argument(
    api: Api, argument: str, forged: str
) -> None:
    # given
    account = await api.sign_up()
    size = "first" if argument == "after" else "last"
    # when
    error = await api.error(
        KEYS,
        {"id": account.organization_id, size: 1, argument: FORGED[forged]},
        token=account.session,
    )
    # then
    assert_code(error, "BAD_USER_INPUT")
    assert error["extensions"]["field"] == argument
    assert argument in error["message"]


async def test_a_well_formed_cursor_of_a_deleted_key_still_pages(api: Api, clock: Clock) -> None:
    # given the cursor of a key that no longer exists
    account = await five_keys(api, clock)
    gone = _cursor(f"keys|2030-01-01T12:00:03.500000+00:00|{uuid.uuid4()}")
    # when
    page = await keys(api, account, first=10, after=gone)
    # then it is a position like any other: the keys older than it
    assert names(page) == ["k2", "k1", "k0", "Default API Key"]


async def test_organizations_page_both_ways(api: Api, clock: Clock) -> None:
    # given a user with three organizations, created in order
    account = await api.sign_up(organizationName="First")
    for name in ("Second", "Third"):
        clock.advance(seconds=1)
        await api.query(CREATE_ORGANIZATION, {"input": {"name": name}}, token=account.session)
    # when
    head = (await api.query(ORGANIZATIONS, {"first": 2}, account.session))["me"]
    tail = (await api.query(ORGANIZATIONS, {"last": 1}, account.session))["me"]
    rest = (
        await api.query(
            ORGANIZATIONS,
            {"first": 2, "after": head["organizations"]["pageInfo"]["endCursor"]},
            account.session,
        )
    )["me"]
    # then
    assert names(head["organizations"]) == ["First", "Second"]
    assert names(tail["organizations"]) == ["Third"]
    assert names(rest["organizations"]) == ["Third"]
    assert head["organizations"]["totalCount"] == 3
    assert head["organizations"]["pageInfo"]["hasNextPage"] is True
    assert tail["organizations"]["pageInfo"]["hasPreviousPage"] is True
    assert rest["organizations"]["pageInfo"]["hasNextPage"] is False


async def test_an_organizations_cursor_is_refused_by_api_keys(api: Api) -> None:
    # given a cursor of the organizations list
    account = await api.sign_up()
    data = await api.query(ORGANIZATIONS, {"first": 1}, account.session)
    cursor = data["me"]["organizations"]["pageInfo"]["endCursor"]
    # when
    error = await api.error(
        KEYS, {"id": account.organization_id, "first": 1, "after": cursor}, token=account.session
    )
    # then
    assert_code(error, "BAD_USER_INPUT")


@pytest.mark.skipif(ON_POSTGRES, reason="reads SQLite's query plan (PostgreSQL plans by cost)")
@pytest.mark.parametrize("reverse", [False, True])
async def test_a_page_either_way_is_an_index_range_not_a_scan(db: None, reverse: bool) -> None:
    # given the SQL of a page in the middle of the list, paging either way
    position = (Clock().now, uuid.uuid4())
    request = PageRequest(last=10, before=position) if reverse else PageRequest(first=10)
    sql, params = page_sql(
        uuid.uuid4(),
        after=None if reverse else position,
        before=request.before,
        reverse=reverse,
        limit=11,
        sqlite=True,
    )
    # when
    _, plan = await ApiKey._meta.db.execute_query(f"EXPLAIN QUERY PLAN {sql}", params)
    details = " ".join(str(tuple(row)[-1]) for row in plan)
    # then the index on (organization_id, created_at, id) is sought at the cursor and read in
    # order from there: no sort, no scan
    assert "(organization_id=? AND (created_at,id)" in details, details
    assert "TEMP B-TREE" not in details, details
