"""`GET /v1/organizations/{id}/audit-events`: the whole log, oldest first, as NDJSON or CSV, each
line chained to the one before; checked by the ten-line recipe printed in the README."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
import uuid
from pathlib import Path

from models.audit_entities import AuditEvent
from models.entities import Role
from tests.harness import Account, Api, Clock
from tests.support import add_member, delete, roll

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_recipe() -> str:
    """The verification recipe exactly as the README prints it."""
    text = README.read_text()
    match = re.search(r"<!-- audit-recipe -->\n```python\n(.*?)```", text, re.DOTALL)
    assert match, "the README has no audit-recipe block"
    assert len(match[1].strip().splitlines()) <= 10
    return match[1]


def run_recipe(export: bytes) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", readme_recipe()],
        input=export.decode(),
        capture_output=True,
        text=True,
        timeout=30,
    )


async def _download(
    api: Api, organization_id: str, token: str, **headers: str
) -> tuple[int, bytes, dict[str, str]]:
    response = await api.client.get(
        f"/v1/organizations/{organization_id}/audit-events",
        headers={"Authorization": f"Bearer {token}", **headers},
    )
    return response.status, await response.read(), dict(response.headers)


async def _history(api: Api, clock: Clock) -> Account:
    account = await api.sign_up("ada@example.com")
    key, _ = await api.create_key(account, name='=HYPERLINK("http://x"), main')
    clock.advance(minutes=5)
    rolled = await roll(api, account.session, key["id"])
    clock.advance(minutes=5)
    await delete(api, account.session, rolled["apiKey"]["id"])
    return account


async def test_the_ndjson_export_is_oldest_first_and_verifies_with_the_readme_recipe(
    api: Api, clock: Clock
) -> None:
    # given
    account = await _history(api, clock)
    # when
    status, body, headers = await _download(api, account.organization_id, account.session)
    # then
    assert status == 200
    assert headers["Content-Type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in body.decode().splitlines()]
    assert [line["action"] for line in lines] == [
        "organization.created",
        "api_key.created",
        "api_key.created",
        "api_key.rolled",
        "api_key.deleted",
    ]
    assert lines[0]["previousHash"] == "0" * 64
    assert all(b["previousHash"] == a["hash"] for a, b in zip(lines, lines[1:], strict=False))
    verdict = run_recipe(body)
    assert verdict.returncode == 0, verdict.stderr
    assert verdict.stdout.strip() == "ok: 5 events"


async def test_the_recipe_finds_an_altered_or_missing_line(api: Api, clock: Clock) -> None:
    account = await _history(api, clock)
    _, body, _ = await _download(api, account.organization_id, account.session)
    lines = body.decode().splitlines(keepends=True)
    altered = lines[3].replace('"ada@example.com"', '"eve@example.com"')
    verdict = run_recipe("".join([*lines[:3], altered, *lines[4:]]).encode())
    assert verdict.returncode != 0
    assert "line 4" in verdict.stderr
    verdict = run_recipe("".join([*lines[:2], *lines[3:]]).encode())
    assert verdict.returncode != 0
    assert "line 3" in verdict.stderr


async def test_csv_has_one_row_per_event_and_defuses_formulas(api: Api, clock: Clock) -> None:
    account = await _history(api, clock)
    status, body, headers = await _download(
        api, account.organization_id, account.session, Accept="text/csv"
    )
    assert status == 200
    assert headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert [row["action"] for row in rows][-2:] == ["api_key.rolled", "api_key.deleted"]
    assert rows[2]["targetName"] == "'=HYPERLINK(\"http://x\"), main"
    assert rows[2]["actorName"] == "ada@example.com"
    assert rows[1]["actorName"] == "keyward"
    assert rows[0]["previousHash"] == "0" * 64
    assert rows[-1]["previousHash"] == rows[-2]["hash"]


async def test_since_and_until_bound_the_export(api: Api, clock: Clock) -> None:
    account = await _history(api, clock)
    response = await api.client.get(
        f"/v1/organizations/{account.organization_id}/audit-events",
        params={"since": "2030-01-01T12:04:00+00:00", "until": "2030-01-01T12:06:00Z"},
        headers={"Authorization": f"Bearer {account.session}"},
    )
    lines = [json.loads(line) for line in (await response.text()).splitlines()]
    assert [line["action"] for line in lines] == ["api_key.rolled"]
    response = await api.client.get(
        f"/v1/organizations/{account.organization_id}/audit-events",
        params={"since": "yesterday"},
        headers={"Authorization": f"Bearer {account.session}"},
    )
    assert response.status == 400
    assert response.content_type == "application/problem+json"


async def test_a_secret_key_of_the_organization_may_export_it(api: Api) -> None:
    account = await api.sign_up()
    _, token = await api.create_key(account)
    status, body, _ = await _download(api, account.organization_id, token)
    assert status == 200
    assert len(body.decode().splitlines()) == 3


async def test_who_may_not_export(api: Api, db: None) -> None:
    owner = await api.sign_up()
    member = await api.sign_up()
    await add_member(member, owner.organization_id, Role.MEMBER)
    stranger = await api.sign_up()
    _, stranger_key = await api.create_key(stranger)
    org = owner.organization_id
    assert (await _download(api, org, member.session))[0] == 403
    assert (await _download(api, org, owner.default_key["token"]))[0] == 403
    assert (await _download(api, org, stranger.session))[0] == 404
    assert (await _download(api, org, stranger_key))[0] == 404
    assert (await _download(api, str(uuid.uuid4()), owner.session))[0] == 404
    assert (await _download(api, "not-an-id", owner.session))[0] == 404
    assert (await _download(api, org, "sk_nonsense"))[0] == 401
    response = await api.client.get(f"/v1/organizations/{org}/audit-events")
    assert response.status == 401
    assert response.content_type == "application/problem+json"


async def test_a_long_log_streams_in_chunks_and_stays_whole(
    api: Api, db: None, clock: Clock
) -> None:
    # given more events than one read (CHUNK = 500) holds
    account = await api.sign_up()
    organization_id = uuid.UUID(account.organization_id)
    from tortoise.transactions import in_transaction

    from models.audit import SYSTEM, EventDraft, audit_append
    from models.request_context import NO_REQUEST

    async with in_transaction():
        await audit_append(
            organization_id,
            [
                EventDraft("organization.renamed", SYSTEM, None, {"n": n}, NO_REQUEST, clock.now)
                for n in range(1200)
            ],
        )
    # when
    status, body, _ = await _download(api, account.organization_id, account.session)
    # then
    assert status == 200
    lines = body.decode().splitlines()
    assert len(lines) == 1202 == await AuditEvent.filter(organization_id=organization_id).count()
    verdict = run_recipe(body)
    assert verdict.stdout.strip() == "ok: 1202 events", verdict.stderr
