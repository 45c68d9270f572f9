"""`Organization.apiKeys` does only the work its selection asks for (`totalCount` alone reads no
page; replacements are joined only for `replacedBy`), and answers the same whichever way the
selection is written: plain fields, fragment spreads, inline fragments, directives."""

from __future__ import annotations

import gc
import uuid
from datetime import datetime
from typing import Any

import pytest

from models.entities import ApiKey
from models.key_listing import listing_sql
from schema.context import Context
from schema.execution import LeanExecutionContext
from schema.types import ApiKey as ApiKeyNode
from tests.harness import ON_POSTGRES, Account, Api, Clock
from tests.support import roll

FULL = """
query Keys($id: ID, $search: String, $after: String) {
  organization(id: $id) {
    apiKeys(first: 10, search: $search, after: $after) {
      totalCount
      edges { cursor node { id name status replacedBy { id name } } }
    }
  }
}
"""

COUNT_ONLY = """
query Count($id: ID, $search: String, $after: String) {
  organization(id: $id) { apiKeys(first: 10, search: $search, after: $after) { totalCount } }
}
"""

THROUGH_FRAGMENTS = """
query Fragments($id: ID, $withReplacement: Boolean!) {
  organization(id: $id) {
    apiKeys(first: 10) { ...Listed }
  }
}
fragment Listed on ApiKeyConnection {
  totalCount
  edges { node { id ... on ApiKey { replacedBy @include(if: $withReplacement) { id } } } }
}
"""


async def rolled_twice(api: Api, clock: Clock) -> tuple[Account, list[str]]:
    """An organization with keys "web" (rolled into "web" again) and "cron"."""
    account = await api.sign_up()
    clock.advance(seconds=1)
    web, _ = await api.create_key(account, name="web")
    clock.advance(seconds=1)
    await api.create_key(account, name="cron")
    clock.advance(seconds=1)
    replacement = (await roll(api, account.session, web["id"]))["apiKey"]
    return account, [web["id"], replacement["id"]]


async def listed(api: Api, account: Account, document: str, **variables: Any) -> dict[str, Any]:
    data = await api.query(document, {"id": account.organization_id, **variables}, account.session)
    return data["organization"]["apiKeys"]  # type: ignore[no-any-return]


async def test_total_count_alone_counts_what_the_full_listing_counts(
    api: Api, clock: Clock
) -> None:
    # given
    account, _ = await rolled_twice(api, clock)
    full = await listed(api, account, FULL)
    # when
    alone = await listed(api, account, COUNT_ONLY)
    searched = await listed(api, account, COUNT_ONLY, search="web")
    past_the_end = await listed(api, account, COUNT_ONLY, after=full["edges"][-1]["cursor"])
    # then the count is the whole (searched) list's, wherever the page lies
    assert full["totalCount"] == 4
    assert alone == {"totalCount": 4}
    assert searched == {"totalCount": 2}
    assert past_the_end == {"totalCount": 4}


async def test_an_empty_page_still_counts_the_whole_list(api: Api, clock: Clock) -> None:
    # given a cursor at the list's last key
    account, _ = await rolled_twice(api, clock)
    full = await listed(api, account, FULL)
    # when
    after_the_end = await listed(api, account, FULL, after=full["edges"][-1]["cursor"])
    # then
    assert after_the_end == {"totalCount": 4, "edges": []}


async def test_replaced_by_is_answered_through_fragments_and_directives(
    api: Api, clock: Clock
) -> None:
    # given a rolled key
    account, (old, new) = await rolled_twice(api, clock)
    # when replacedBy is asked inside a fragment, with and without @include
    included = await listed(api, account, THROUGH_FRAGMENTS, withReplacement=True)
    left_out = await listed(api, account, THROUGH_FRAGMENTS, withReplacement=False)
    # then
    replaced = {edge["node"]["id"]: edge["node"]["replacedBy"] for edge in included["edges"]}
    assert replaced[old] == {"id": new}
    assert replaced[new] is None
    assert included["totalCount"] == left_out["totalCount"] == 4
    assert all(set(edge["node"]) == {"id"} for edge in left_out["edges"])


async def test_the_full_listing_names_each_replacement(api: Api, clock: Clock) -> None:
    # given
    account, (old, new) = await rolled_twice(api, clock)
    # when
    full = await listed(api, account, FULL)
    # then
    nodes = {edge["node"]["id"]: edge["node"] for edge in full["edges"]}
    assert nodes[old]["status"] == "ROLLED"
    assert nodes[old]["replacedBy"] == {"id": new, "name": "web"}
    assert [node["replacedBy"] for key, node in nodes.items() if key != old] == [None] * 3


async def listing_plan(*, sqlite: bool, after: tuple[datetime, uuid.UUID] | None) -> str:
    """The database's plan for the one statement of a listing's page, its count and its
    replacements."""
    sql, params = listing_sql(
        uuid.uuid4(),
        after=after,
        before=None,
        reverse=False,
        limit=11,
        sqlite=sqlite,
        replacements=True,
    )
    explain = "EXPLAIN QUERY PLAN" if sqlite else "EXPLAIN"
    _, plan = await ApiKey._meta.db.execute_query(f"{explain} {sql}", params)
    return " ".join(str(tuple(row)[-1]) for row in plan)


@pytest.mark.skipif(ON_POSTGRES, reason="reads SQLite's query plan (PostgreSQL plans by cost)")
async def test_the_listing_statement_reads_an_index_range(db: None, clock: Clock) -> None:
    # given the one statement of a listing's page, its count and its replacements
    # when
    details = await listing_plan(sqlite=True, after=(clock.now, uuid.uuid4()))
    # then the page is sought at the cursor, and each replacement found by its primary key
    assert "(organization_id=? AND (created_at,id)" in details, details
    assert "SCAN api_key" not in details, details


async def test_a_replacement_of_another_organization_is_not_shown(
    api: Api, clock: Clock, db: None
) -> None:
    # given a rolled key whose replaced_by_id names another organization's key (no API makes
    # one: the listing must not show it whatever the database holds)
    account, (old, _) = await rolled_twice(api, clock)
    other = await api.sign_up()
    theirs, _ = await api.create_key(other, name="theirs")
    await ApiKey.filter(id=uuid.UUID(old)).update(replaced_by_id=uuid.UUID(theirs["id"]))
    # when
    full = await listed(api, account, FULL)
    # then
    nodes = {edge["node"]["id"]: edge["node"] for edge in full["edges"]}
    assert nodes[old]["replacedBy"] is None
    assert theirs["id"] not in nodes


@pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL's plan")
async def test_each_replacement_is_found_by_its_primary_key_on_postgres(
    db: None, clock: Clock
) -> None:
    # given the one statement of a listing's page, on a table PostgreSQL has not analyzed
    # when
    details = await listing_plan(sqlite=False, after=None)
    # then
    assert "Index Cond: (id = api_key.replaced_by_id)" in details, details


TWICE = """
query Twice($id: ID) {
  organization(id: $id) {
    apiKeys(first: 10) { totalCount }
    apiKeys(first: 10) { edges { node { id } } }
  }
}
"""


async def test_a_connection_asked_twice_under_one_name_answers_both_selections(
    api: Api, clock: Clock
) -> None:
    # given
    account, _ = await rolled_twice(api, clock)
    # when the count and the page are asked in two selections of the same field
    merged = await listed(api, account, TWICE)
    # then the page is read for the second one too
    assert merged["totalCount"] == 4
    assert len(merged["edges"]) == 4


async def test_a_listing_is_freed_as_it_ends_not_by_the_garbage_collector(
    api: Api, clock: Clock
) -> None:
    """What a request built (its executor, its context, the page) is freed by reference counting
    when it answers. graphql-core's executor used to hold its own bound methods: each request's
    executor, context and field collections lay in a reference cycle until a collection found
    them, and under load those collections paused the event loop for up to 100 ms."""
    # given a listing answered once (schemas, caches and pools warmed up)
    account, _ = await rolled_twice(api, clock)
    await listed(api, account, FULL)
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        # when five more are answered with the collector off
        for _ in range(5):
            assert (await listed(api, account, FULL))["totalCount"] == 4
        gc.collect()
        left = [type(thing) for thing in gc.garbage]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    # then nothing the requests made was left for the collector
    assert LeanExecutionContext not in left
    assert Context not in left
    assert ApiKeyNode not in left
