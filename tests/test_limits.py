"""GraphQL resource limits: each refusal is a clear error, and comes before any resolver runs.

Every refused document below carries a `signUp` for a fresh email; that the email is still free
afterwards proves that no resolver ran.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from schema import MAX_ALIASES, MAX_DEPTH, MAX_TOKENS
from server import create_app
from settings import Settings
from tests.harness import PASSWORD, Api
from web.graphql_view import MAX_QUERY_CHARS

SIGN_UP_HEAD = (
    "signUp(input: $input) { __typename ... on SignedIn { user { organizations(first: 1) { "
    "edges { node { "
)
# Small pages: the depth limit is the subject here, not the cost limit.
SIGN_UP_KEYS = "apiKeys(first: 1) { edges { node { "


def nested_sign_up(depth: int) -> str:
    """A signUp whose deepest field sits at `depth` (root fields are at depth 0)."""
    inner = "id"
    # signUp, user, organizations, edges, node, apiKeys, edges, node: 0 … 7
    for _ in range(depth - 8):
        inner = f"replacedBy {{ {inner} }}"
    return (
        "mutation SignUp($input: SignUpInput!) { "
        + SIGN_UP_HEAD
        + SIGN_UP_KEYS
        + inner
        + " } } } } } } } } } }"
    )


def fresh_input() -> dict[str, Any]:
    return {"input": {"email": f"{uuid.uuid4().hex[:10]}@example.com", "password": PASSWORD}}


async def assert_no_resolver_ran(api: Api, variables: dict[str, Any]) -> None:
    data = await api.query(
        "mutation SignUp($input: SignUpInput!) { signUp(input: $input) { __typename } }",
        variables,
    )
    assert data["signUp"]["__typename"] == "SignedIn"


async def refused(api: Api, document: str, variables: dict[str, Any]) -> str:
    status, body = await api.raw(document, variables)
    assert status in (200, 400), body
    assert body.get("data") is None, body
    assert len(body["errors"]) == 1, body
    return body["errors"][0]["message"]  # type: ignore[no-any-return]


async def test_depth_ten_is_allowed(api: Api) -> None:
    # given / when
    data = await api.query(nested_sign_up(MAX_DEPTH), fresh_input())
    # then
    assert data["signUp"]["__typename"] == "SignedIn"


async def test_depth_eleven_is_refused(api: Api) -> None:
    # given
    variables = fresh_input()
    # when
    message = await refused(api, nested_sign_up(MAX_DEPTH + 1), variables)
    # then
    assert "exceeds maximum operation depth of 10" in message
    await assert_no_resolver_ran(api, variables)


async def test_sixteen_aliases_are_refused(api: Api) -> None:
    # given
    variables = fresh_input()
    aliases = " ".join(f"a{i}: __typename" for i in range(MAX_ALIASES))
    document = (
        "mutation SignUp($input: SignUpInput!) { s: signUp(input: $input) { __typename } "
        + aliases
        + " }"
    )
    # when
    message = await refused(api, document, variables)
    # then
    assert message == "16 aliases found. Allowed: 15"
    await assert_no_resolver_ran(api, variables)


async def test_aliases_hidden_in_fragments_are_counted(api: Api) -> None:
    # given 8 + 8 aliases in two fragments, plus the signUp
    variables = fresh_input()
    first = " ".join(f"a{i}: __typename" for i in range(8))
    second = " ".join(f"b{i}: __typename" for i in range(8))
    document = (
        "mutation SignUp($input: SignUpInput!) { signUp(input: $input) { __typename } ...A ...B }"
        f" fragment A on Mutation {{ {first} }} fragment B on Mutation {{ {second} }}"
    )
    # when
    message = await refused(api, document, variables)
    # then
    assert message == "16 aliases found. Allowed: 15"
    await assert_no_resolver_ran(api, variables)


async def test_fifteen_aliases_are_allowed(api: Api) -> None:
    aliases = " ".join(f"a{i}: __typename" for i in range(MAX_ALIASES))
    data = await api.query("query { " + aliases + " }")
    assert len(data) == MAX_ALIASES


async def test_too_many_tokens_are_refused(api: Api) -> None:
    # given a document of a little over 2000 tokens, under the length limit
    variables = fresh_input()
    padding = " t" * MAX_TOKENS
    document = (
        "mutation SignUp($input: SignUpInput!) { signUp(input: $input) { __typename } "
        + padding
        + " }"
    )
    assert len(document) < MAX_QUERY_CHARS
    # when
    message = await refused(api, document, variables)
    # then
    assert "more than 2000 tokens" in message
    await assert_no_resolver_ran(api, variables)


async def test_a_20000_character_query_is_refused(api: Api) -> None:
    # given a short operation padded with a comment to 20,000 characters
    variables = fresh_input()
    document = "mutation SignUp($input: SignUpInput!) { signUp(input: $input) { __typename } }"
    document += "\n#" + "x" * (20_000 - len(document) - 2)
    assert len(document) == 20_000
    # when
    status, body = await api.raw(document, variables)
    # then
    assert status == 400
    assert body == {
        "errors": [
            {
                "message": "The query has 20,000 characters; at most 15,000 are accepted.",
                "extensions": {"code": "BAD_REQUEST"},
            }
        ]
    }
    await assert_no_resolver_ran(api, variables)


async def test_a_2_mib_body_is_413(api: Api, client: TestClient[Any, Any]) -> None:
    # given
    variables = fresh_input()
    variables["padding"] = "x" * (2 * 1024 * 1024)
    document = "mutation SignUp($input: SignUpInput!) { signUp(input: $input) { __typename } }"
    # when
    response = await client.post("/graphql", json={"query": document, "variables": variables})
    # then
    assert response.status == 413
    body = await response.json()
    assert body["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    del variables["padding"]
    await assert_no_resolver_ran(api, variables)


async def test_a_batch_is_refused(api: Api, client: TestClient[Any, Any]) -> None:
    # given
    variables = fresh_input()
    document = "mutation SignUp($input: SignUpInput!) { signUp(input: $input) { __typename } }"
    batch = [{"query": document, "variables": variables}, {"query": "{ __typename }"}]
    # when
    response = await client.post("/graphql", json=batch)
    # then
    assert response.status == 400
    body = await response.json()
    assert body["errors"][0]["message"] == "Batching is not enabled"
    await assert_no_resolver_ran(api, variables)


async def test_mutations_over_get_are_refused(api: Api, client: TestClient[Any, Any]) -> None:
    # given
    variables = fresh_input()
    document = "mutation SignUp($input: SignUpInput!) { signUp(input: $input) { __typename } }"
    # when
    response = await client.get(
        "/graphql", params={"query": document, "variables": json.dumps(variables)}
    )
    # then
    assert response.status == 405
    assert response.headers["Allow"] == "POST"
    assert (await response.json())["errors"][0]["message"] == (
        "Mutations are sent as POST, never GET."
    )
    await assert_no_resolver_ran(api, variables)


async def test_queries_over_get_work(client: TestClient[Any, Any]) -> None:
    response = await client.get("/graphql", params={"query": "{ me { id } }"})
    assert response.status == 200
    assert await response.json() == {"data": {"me": None}}


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""],
)
async def test_post_bodies_must_be_json(
    api: Api, client: TestClient[Any, Any], content_type: str
) -> None:
    # given a body a browser could send cross-site without a preflight
    variables = fresh_input()
    document = "mutation SignUp($input: SignUpInput!) { signUp(input: $input) { __typename } }"
    body = json.dumps({"query": document, "variables": variables})
    # when
    response = await client.post("/graphql", data=body, headers={"Content-Type": content_type})
    # then
    assert response.status == 415
    assert (await response.json())["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    await assert_no_resolver_ran(api, variables)


async def test_websocket_upgrades_are_not_served(client: TestClient[Any, Any]) -> None:
    headers = {
        "Connection": "Upgrade",
        "Upgrade": "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Protocol": "graphql-transport-ws",
    }
    response = await client.get("/graphql", headers=headers)
    assert response.status != 101


async def test_first_above_100_is_refused(api: Api) -> None:
    # given
    account = await api.sign_up()
    document = """
    query Keys($id: ID!, $first: Int!) {
      organization(id: $id) { apiKeys(first: $first) { totalCount } }
    }
    """
    # when
    error = await api.error(
        document, {"id": account.organization_id, "first": 101}, token=account.session
    )
    # then
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    data = await api.query(
        document, {"id": account.organization_id, "first": 100}, token=account.session
    )
    assert data["organization"]["apiKeys"]["totalCount"] == 1


async def test_field_suggestions_are_on_by_default(api: Api) -> None:
    error = await api.error("{ me { emial } }")
    assert "Did you mean 'email'?" in error["message"]


async def test_production_mode_hides_suggestions_and_introspection(
    settings: Settings, aiohttp_client: Any
) -> None:
    # given GRAPHQL_INTROSPECTION=false
    app: web.Application = create_app(
        Settings.from_env({"DATABASE_URL": settings.database_url, "GRAPHQL_INTROSPECTION": "false"})
    )
    api = Api(await aiohttp_client(app))
    # when
    error = await api.error("{ me { emial } }")
    _, introspection = await api.raw("{ __schema { types { name } } }")
    # then
    assert error["message"] == "Cannot query field 'emial' on type 'User'."
    assert "data" not in introspection
    assert "introspection has been disabled" in introspection["errors"][0]["message"]


async def test_unexpected_errors_are_masked_and_logged(
    api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # given a resolver that crashes
    import schema.query as query_module

    async def crash(**_: Any) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(query_module, "user_get", crash)
    account = await api.sign_up()
    # when
    error = await api.error("query Me { me { id } }", token=account.session)
    # then the client sees nothing of it, the operator everything
    assert error["message"] == "Unexpected error."
    assert "disk on fire" not in json.dumps(error)
    logged = [r for r in caplog.records if r.name == "keyward.graphql"]
    assert len(logged) == 1
    assert "Me" in logged[0].getMessage() and "me" in logged[0].getMessage()
    assert logged[0].exc_info is not None and "disk on fire" in str(logged[0].exc_info[1])
