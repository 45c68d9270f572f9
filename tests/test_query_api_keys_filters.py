"""organization { apiKeys(search:, types:, statuses:) }: the server narrows the listing, counts
what it kept, and pages through it with the same cursors."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.harness import Account, Api, Clock
from tests.support import roll

FILTERED = """
query Filtered(
  $id: ID!, $first: Int, $after: String, $search: String,
  $types: [ApiKeyType!], $statuses: [ApiKeyStatus!]
) {
  organization(id: $id) {
    apiKeys(first: $first, after: $after, search: $search, types: $types, statuses: $statuses) {
      totalCount pageInfo { hasNextPage endCursor } edges { node { id name type status start } }
    }
  }
}
"""


async def listed(api: Api, account: Account, **arguments: Any) -> tuple[list[str], int]:
    data = await api.query(
        FILTERED, {"id": account.organization_id, **arguments}, token=account.session
    )
    connection = data["organization"]["apiKeys"]
    return [edge["node"]["name"] for edge in connection["edges"]], connection["totalCount"]


async def test_search_finds_names_in_any_case(api: Api, clock: Clock) -> None:
    # given
    account = await api.sign_up()
    for name in ("Billing worker", "billing-cron", "Website", "100%_sure"):
        clock.advance(seconds=1)
        await api.create_key(account, name=name)
    # when / then: newest first, counted
    assert await listed(api, account, search="BILLING") == (["billing-cron", "Billing worker"], 2)
    assert await listed(api, account, search="  site ") == (["Website"], 1)
    # % and _ are plain characters, not wildcards
    assert await listed(api, account, search="0%_") == (["100%_sure"], 1)
    assert await listed(api, account, search="l_n") == ([], 0)
    # an empty search keeps everything
    assert (await listed(api, account, search=""))[1] == 5


async def test_search_finds_a_key_by_its_start_or_its_token(api: Api, clock: Clock) -> None:
    # given two secret keys
    account = await api.sign_up()
    first, first_token = await api.create_key(account, name="first")
    clock.advance(seconds=1)
    await api.create_key(account, name="second")
    # when the start, or the whole token, is searched for
    by_start = await listed(api, account, search=first["start"])
    by_token = await listed(api, account, search=first_token)
    # then only that key is found
    assert by_start == by_token == (["first"], 1)
    assert await listed(api, account, search="sk_") == (["second", "first"], 2)


async def test_types_and_statuses_keep_what_they_name(api: Api, clock: Clock) -> None:
    # given an active secret key, a rolled one, an expired one and the public default key
    account = await api.sign_up()
    rolled, _ = await api.create_key(account, name="rolled")
    await roll(api, account.session, rolled["id"])  # its replacement is also "rolled", ACTIVE
    expiring = (clock.now + timedelta(minutes=5)).isoformat()
    await api.create_key(account, name="expired", expiresAt=expiring)
    clock.advance(minutes=10)
    # when / then
    assert await listed(api, account, types=["PUBLIC"]) == (["Default API Key"], 1)
    assert await listed(api, account, statuses=["EXPIRED"]) == (["expired"], 1)
    assert await listed(api, account, statuses=["ROLLED"]) == (["rolled"], 1)
    assert await listed(api, account, types=["SECRET"], statuses=["ACTIVE"]) == (["rolled"], 1)
    assert (await listed(api, account, statuses=["ACTIVE", "ROLLED"]))[1] == 3
    assert await listed(api, account, search="roll", statuses=["EXPIRED"]) == ([], 0)
    assert (await listed(api, account, types=[], statuses=[]))[1] == 4


async def test_a_filtered_listing_pages_with_its_cursors(api: Api, clock: Clock) -> None:
    # given five matching keys among others
    account = await api.sign_up()
    for number in range(5):
        clock.advance(seconds=1)
        await api.create_key(account, name=f"match {number}")
        await api.create_key(account, name=f"other {number}")
    # when it is read two at a time
    names: list[str] = []
    after = None
    while True:
        data = await api.query(
            FILTERED,
            {"id": account.organization_id, "first": 2, "after": after, "search": "match"},
            token=account.session,
        )
        connection = data["organization"]["apiKeys"]
        assert connection["totalCount"] == 5
        names += [edge["node"]["name"] for edge in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    # then every match comes once, newest first
    assert names == [f"match {number}" for number in reversed(range(5))]


async def test_a_search_over_100_characters_is_bad_input(api: Api) -> None:
    # given
    account = await api.sign_up()
    # when
    error = await api.error(
        FILTERED, {"id": account.organization_id, "search": "x" * 101}, token=account.session
    )
    # then
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "100" in error["message"]
