"""GraphQL over HTTP as the specifications say, beyond what graphql-http's audit asks: one named
operation per document, no `data` on request errors, `application/graphql-response+json` and its
status codes, empty GET parameters, `Allow` on every 405, 415 on verify, problem documents under
/v1/, and RFC 6750's challenge for a credential of another scheme."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.harness import Api
from tests.support import ME, assert_code
from web.media import GRAPHQL_RESPONSE_JSON, JSON, negotiate

TWO_OPERATIONS = "mutation A { signOut } query B { me { email } }"


# -- several operations in one document --


@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_several_operations_without_a_name_are_a_request_error(
    api: Api, client: TestClient[Any, Any], method: str
) -> None:
    # given a signed-in user
    account = await api.sign_up()
    headers = {"Authorization": f"Bearer {account.session}"}
    document = "query A { me { email } } query B { me { id } }"
    # when
    if method == "POST":
        response = await client.post("/graphql", json={"query": document}, headers=headers)
    else:
        response = await client.get("/graphql", params={"query": document}, headers=headers)
    body = await response.json()
    # then
    assert response.status == 200
    assert "data" not in body
    assert body["errors"][0]["message"].startswith("The document has several operations")


async def test_a_mutation_first_in_the_document_does_not_run(
    api: Api, client: TestClient[Any, Any]
) -> None:
    # given a signed-in user
    account = await api.sign_up()
    headers = {"Authorization": f"Bearer {account.session}"}
    # when a document starting with signOut comes without an operationName
    response = await client.post("/graphql", json={"query": TWO_OPERATIONS}, headers=headers)
    body = await response.json()
    # then it is refused, and the session still works
    assert "data" not in body and len(body["errors"]) == 1
    assert (await api.query(ME, token=account.session))["me"]["email"] == account.email


async def test_the_named_operation_of_several_runs(api: Api, client: TestClient[Any, Any]) -> None:
    # given
    account = await api.sign_up()
    headers = {"Authorization": f"Bearer {account.session}"}
    # when
    response = await client.post(
        "/graphql", json={"query": TWO_OPERATIONS, "operationName": "B"}, headers=headers
    )
    # then only B ran: the session is still good
    assert await response.json() == {"data": {"me": {"email": account.email}}}
    assert (await api.query(ME, token=account.session))["me"] is not None


# -- request errors, media types and status codes --

REQUEST_ERRORS = {
    "parse": {"query": "{"},
    "validation": {"query": "{ nope }"},
    "variables": {"query": "query Q($id: ID!) { apiKey(id: $id) { id } }", "variables": {}},
    "unknown operation": {"query": "query A { __typename }", "operationName": "B"},
}


@pytest.mark.parametrize("kind", REQUEST_ERRORS)
@pytest.mark.parametrize(
    ("accept", "status", "media_type"),
    [
        (None, 200, JSON),
        (JSON, 200, JSON),
        (GRAPHQL_RESPONSE_JSON, 400, GRAPHQL_RESPONSE_JSON),
        (f"{GRAPHQL_RESPONSE_JSON}, {JSON};q=0.9", 400, GRAPHQL_RESPONSE_JSON),
    ],
)
async def test_a_request_error_has_no_data_and_its_status_follows_the_media_type(
    client: TestClient[Any, Any], kind: str, accept: str | None, status: int, media_type: str
) -> None:
    # given
    headers = {"Accept": accept} if accept else {}
    unknown_operation = kind == "unknown operation"
    # when
    response = await client.post("/graphql", json=REQUEST_ERRORS[kind], headers=headers)
    body = await response.json(content_type=None)
    # then
    assert response.status == (400 if unknown_operation else status), body
    assert response.content_type == media_type
    assert "data" not in body
    assert body["errors"][0]["message"]


async def test_a_field_error_keeps_its_data_and_a_200(client: TestClient[Any, Any]) -> None:
    # when a field that needs a credential is asked for without one
    response = await client.post(
        "/graphql",
        json={"query": "{ organization { id } __typename }"},
        headers={"Accept": GRAPHQL_RESPONSE_JSON},
    )
    body = await response.json(content_type=None)
    # then execution started: 200, with data
    assert response.status == 200
    assert response.content_type == GRAPHQL_RESPONSE_JSON
    assert body["data"] == {"organization": None, "__typename": "Query"}
    assert_code(body["errors"][0], "UNAUTHENTICATED")


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        (None, JSON),
        ("*/*", JSON),
        ("text/html;q=0.5, application/json", JSON),
        (GRAPHQL_RESPONSE_JSON, GRAPHQL_RESPONSE_JSON),
        (f"{JSON}, {GRAPHQL_RESPONSE_JSON};q=0.5", JSON),
        (f"{GRAPHQL_RESPONSE_JSON};q=0, {JSON}", JSON),
        (f"{GRAPHQL_RESPONSE_JSON}, */*", GRAPHQL_RESPONSE_JSON),
    ],
)
def test_the_media_type_is_negotiated_from_accept(accept: str | None, media_type: str) -> None:
    assert negotiate(accept) == media_type


async def test_empty_get_parameters_count_as_absent(client: TestClient[Any, Any]) -> None:
    # when
    response = await client.get(
        "/graphql",
        params={"query": "{ __typename }", "operationName": "", "variables": "", "extensions": ""},
        headers={"Accept": GRAPHQL_RESPONSE_JSON},
    )
    # then
    assert response.status == 200
    assert await response.json(content_type=None) == {"data": {"__typename": "Query"}}


# -- 405 and Allow --


@pytest.mark.parametrize("method", ["HEAD", "PUT", "DELETE", "PATCH"])
async def test_every_405_on_graphql_names_the_allowed_methods(
    client: TestClient[Any, Any], method: str
) -> None:
    response = await client.request(method, "/graphql")
    assert response.status == 405
    assert sorted(response.headers["Allow"].split(",")) == ["GET", "POST"]


async def test_a_mutation_over_get_is_405_allowing_post(client: TestClient[Any, Any]) -> None:
    # when
    response = await client.get(
        "/graphql",
        params={"query": "mutation { signOut }"},
        headers={"Accept": GRAPHQL_RESPONSE_JSON},
    )
    body = await response.json(content_type=None)
    # then
    assert response.status == 405
    assert response.headers["Allow"] == "POST"
    assert response.content_type == GRAPHQL_RESPONSE_JSON
    assert "data" not in body


# -- the REST edge --


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
async def test_verify_needs_a_json_body(
    api: Api, client: TestClient[Any, Any], content_type: str | None
) -> None:
    # given a body a browser could post cross-site without a preflight
    account = await api.sign_up()
    body = json.dumps({"key": account.default_key["token"]})
    headers = {"Content-Type": content_type} if content_type else {}
    # when
    response = await client.post(
        "/v1/keys/verify", data=body, headers=headers, skip_auto_headers=["Content-Type"]
    )
    # then
    assert response.status == 415
    assert response.content_type == "application/problem+json"
    problem = await response.json(content_type=None)
    assert (problem["status"], problem["title"]) == (415, "Unsupported Media Type")


async def test_verify_accepts_json_with_a_charset(api: Api, client: TestClient[Any, Any]) -> None:
    account = await api.sign_up()
    response = await client.post(
        "/v1/keys/verify",
        data=json.dumps({"key": account.default_key["token"]}),
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert response.status == 200
    assert (await response.json())["valid"] is True


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "HEAD"])
async def test_a_wrong_method_on_verify_is_a_problem_with_allow(
    client: TestClient[Any, Any], method: str
) -> None:
    response = await client.request(method, "/v1/keys/verify")
    assert response.status == 405
    assert response.headers["Allow"] == "POST"
    assert response.content_type == "application/problem+json"
    if method != "HEAD":
        assert (await response.json(content_type=None))["status"] == 405


async def test_an_unknown_rest_path_is_a_problem(client: TestClient[Any, Any]) -> None:
    response = await client.post("/v1/keys/verification", json={"key": "x"})
    assert response.status == 404
    assert response.content_type == "application/problem+json"
    assert (await response.json(content_type=None))["title"] == "Not Found"


# -- credentials (RFC 6750) --


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Token abc", "sk_only"])
async def test_another_scheme_is_challenged_without_an_error_code(
    client: TestClient[Any, Any], header: str
) -> None:
    response = await client.post("/graphql", json={"query": ME}, headers={"Authorization": header})
    assert response.status == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_a_bad_bearer_token_is_challenged_with_invalid_token(
    client: TestClient[Any, Any],
) -> None:
    response = await client.post(
        "/graphql", json={"query": ME}, headers={"Authorization": "Bearer sk_nope"}
    )
    assert response.status == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


async def test_no_credential_keeps_its_graphql_error(client: TestClient[Any, Any]) -> None:
    # when an operation that needs a credential comes without any
    response = await client.post("/graphql", json={"query": "{ sessions { id } }"})
    body = await response.json()
    # then it is a GraphQL error, not an HTTP challenge
    assert response.status == 200
    assert "WWW-Authenticate" not in response.headers
    assert_code(body["errors"][0], "UNAUTHENTICATED")
