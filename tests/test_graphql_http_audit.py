"""graphql-http's `auditServer`, the GraphQL-over-HTTP specification's own audit suite, run
against a live keyward: every audit, MUST, SHOULD and MAY alike, must pass. The results are listed
by id in the test output."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.npm_tools import PACKAGE, tools_or_skip

AUDIT_TIMEOUT_SECONDS = 120


async def test_the_graphql_over_http_audit_passes_without_a_warning(
    client: TestClient[Any, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    # given a live server and the audit suite
    tools = tools_or_skip()
    url = str(client.make_url("/graphql"))
    # when
    process = await asyncio.create_subprocess_exec(
        "node",
        str(PACKAGE / "audit.cjs"),
        str(tools),
        url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), AUDIT_TIMEOUT_SECONDS)
    assert process.returncode == 0, err.decode()
    results: list[dict[str, Any]] = json.loads(out)
    # then
    with capsys.disabled():
        print(f"\ngraphql-http audit: {len(results)} audits")
        for result in results:
            print(f"  {result['id']} {result['status']:<5} {result['name']}")
    statuses = {result["status"] for result in results}
    not_ok = [
        f"{r['id']} {r['status']}: {r['name']}: {r['reason']}"
        for r in results
        if r["status"] != "ok"
    ]
    assert not_ok == [], "\n".join(not_ok)
    assert statuses == {"ok"} and len(results) >= 60
