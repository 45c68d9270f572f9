"""`GET /openapi.json`: the REST side's contract. openapi-spec-validator judges the document;
schemathesis generates requests from it against a live server and checks every response against
it (status, content type, headers, body schema); a new endpoint is in the document by its one
registration line.

`OPENAPI_FUZZ_OPERATIONS` (default 1,000) bounds the schemathesis run.
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import requests
import schemathesis
from aiohttp import web
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import validate
from schemathesis.config._checks import NegativeDataRejectionConfig

from server import create_app
from settings import Settings
from web.rest import REST_ENDPOINTS, Operation, Reply, add_rest_endpoint, openapi_document

OPERATIONS = int(os.environ.get("OPENAPI_FUZZ_OPERATIONS", "1000"))
# Each round gives every operation a share of the remaining budget; operations without inputs
# run once per round, so the rounds are bounded.
MAX_ROUNDS = 20


async def test_the_document_is_valid_openapi_3_1(client: TestClient[Any, Any]) -> None:
    # when
    response = await client.get("/openapi.json")
    document = await response.json()
    # then
    assert response.status == 200 and response.content_type == "application/json"
    validate(document)
    assert document["openapi"] == "3.1.0"
    assert {(path, method) for path, item in document["paths"].items() for method in item} == {
        ("/v1/keys/verify", "post"),
        ("/v1/keys/report-leak", "post"),
        ("/v1/secret-scanning/github", "post"),
        ("/v1/organizations/{id}/audit-events", "get"),
        ("/healthz", "get"),
        ("/readyz", "get"),
        ("/openapi.json", "get"),
    }
    verify = document["paths"]["/v1/keys/verify"]["post"]
    assert set(verify["responses"]) == {"200", "400", "413", "415", "503"}
    assert document["components"]["schemas"]["VerifyRequest"]["properties"]["key"] == {
        "type": "string",
        "maxLength": 512,
        "description": "The token exactly as the caller presented it (`pk_…` or `sk_…`).",
    }
    # the caller's address and origin, for restricted keys, and why one was refused
    asked = document["components"]["schemas"]["VerifyRequest"]["properties"]
    assert {"clientIp", "origin"} <= set(asked)
    reason = document["components"]["schemas"]["KeyVerification"]["properties"]["reason"]
    assert reason["anyOf"][0]["enum"] == ["IP_NOT_ALLOWED", "ORIGIN_NOT_ALLOWED"]
    assert "FORBIDDEN" in document["components"]["schemas"]["KeyVerification"]["properties"][
        "code"
    ]["enum"]


async def test_a_new_endpoint_is_documented_by_its_registration(database_url: str) -> None:
    # given an app with one more endpoint, registered in one line
    app = create_app(Settings(database_url=database_url))

    async def list_widgets(request: web.Request) -> web.Response:
        return web.json_response({})

    widgets = Operation(
        summary="Widgets", description="Every widget.", replies={200: Reply("The widgets.")}
    )
    # when
    add_rest_endpoint(app, "GET", "/v1/widgets", list_widgets, widgets)
    document = openapi_document(app[REST_ENDPOINTS])
    # then
    validate(document)
    assert document["paths"]["/v1/widgets"]["get"]["operationId"] == "listWidgets"


@dataclass
class Tally:
    statuses: Counter[int] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.statuses.values())


def _fuzz(base_url: str, target: int) -> Tally:
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    # A schema-violating body may also be too large for the server to read: 413 rejects it too.
    rejections = NegativeDataRejectionConfig._DEFAULT_EXPECTED_STATUSES
    schema.config.checks.negative_data_rejection = NegativeDataRejectionConfig.from_dict(
        {"expected-statuses": [*rejections, "413"]}
    )
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    session = requests.Session()
    tally = Tally()
    for _ in range(MAX_ROUNDS):
        remaining = target - tally.total
        if remaining <= 0:
            break
        share = -(-remaining // len(operations))
        for operation in operations:
            # Invalid requests only where there is something to get wrong: a request body.
            modes = [schemathesis.GenerationMode.POSITIVE]
            if len(operation.body):
                modes.append(schemathesis.GenerationMode.NEGATIVE)
            for mode in modes:
                _exercise(operation, mode, max(1, share // len(modes)), session, tally)
    return tally


def _exercise(
    operation: Any, mode: Any, examples: int, session: requests.Session, tally: Tally
) -> None:
    @settings(
        max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def exercise(case: Any) -> None:
        try:
            response = case.call_and_validate(session=session)
        except Exception as failure:  # every check's verdict, kept to report them all
            tally.problems.append(f"{operation.label} {case.body!r}: {failure}"[:800])
            return
        tally.statuses[response.status_code] += 1
        if response.status_code >= 500:
            tally.problems.append(f"{response.status_code} {case.body!r}: {response.text[:300]}")

    exercise()


async def test_schemathesis_finds_every_response_conforming(client: TestClient[Any, Any]) -> None:
    # given a live server
    base_url = str(client.make_url("")).rstrip("/")
    # when generated requests run in a thread (the server answers on this loop)
    tally = await asyncio.to_thread(_fuzz, base_url, OPERATIONS)
    # then
    print(f"openapi fuzz: {tally.total} operations, statuses {dict(tally.statuses)}")
    assert tally.problems == []
    assert tally.total >= OPERATIONS, tally.statuses
    assert not any(status >= 500 for status in tally.statuses)
