"""The audit chain: recorded with its change or not at all, verifiable end to end, broken
visibly by any edit, and still verifiable after the retention purge."""

from __future__ import annotations

import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from tortoise.transactions import in_transaction

from models import audit
from models.api_keys import api_key_create
from models.audit import SYSTEM, Target, audit_record
from models.audit_entities import AuditChain, AuditEvent
from models.audit_log import audit_chain_verify, audit_events_purge
from models.entities import ApiKey, ApiKeyType
from models.policies import KeyPolicy
from models.request_context import NO_REQUEST
from settings import Settings
from tests.harness import Api, Clock, key_manager
from tests.jobs_support import server_env

ROOT = Path(__file__).resolve().parent.parent


async def _organization(api: Api) -> uuid.UUID:
    account = await api.sign_up()
    for n in range(3):
        await api.create_key(account, name=f"key {n}")
    return uuid.UUID(account.organization_id)


async def test_the_chain_verifies_and_an_edited_event_breaks_it_there(api: Api, db: None) -> None:
    # given
    organization_id = await _organization(api)
    assert await audit_chain_verify(organization_id=organization_id) == audit_chain_verify_ok(5)
    # when someone rewrites history in the database
    await AuditEvent.filter(organization_id=organization_id, sequence=3).update(
        actor_name="someone else"
    )
    # then
    check = await audit_chain_verify(organization_id=organization_id)
    assert (check.ok, check.broken_at, check.reason, check.checked) == (
        False,
        3,
        "the event was altered",
        2,
    )


async def test_a_removed_event_breaks_the_chain(api: Api, db: None) -> None:
    organization_id = await _organization(api)
    await AuditEvent.filter(organization_id=organization_id, sequence=2).delete()
    check = await audit_chain_verify(organization_id=organization_id)
    assert (check.ok, check.broken_at, check.reason) == (False, 2, "an event is missing")
    await AuditEvent.filter(organization_id=organization_id, sequence__gte=2).delete()
    check = await audit_chain_verify(organization_id=organization_id)
    assert (check.ok, check.reason) == (False, "events after it are missing")


def audit_chain_verify_ok(checked: int) -> object:
    from models.audit_log import ChainCheck

    return ChainCheck(ok=True, checked=checked)


async def test_a_failure_after_the_event_insert_leaves_neither_change_nor_event(
    api: Api, db: None, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given
    organization_id = await _organization(api)
    keys_before = await ApiKey.filter(organization_id=organization_id).count()
    events_before = await AuditEvent.filter(organization_id=organization_id).count()

    async def crash(*args: object) -> None:
        raise RuntimeError("killed between the event insert and the commit")

    monkeypatch.setattr(audit, "_advance_head", crash)
    # when
    with pytest.raises(RuntimeError):
        await api_key_create(
            access=await key_manager(organization_id),
            name="half written",
            type=ApiKeyType.SECRET,
            expires_at=None,
            now=clock.now,
            policy=KeyPolicy(),
        )
    # then
    assert await ApiKey.filter(organization_id=organization_id).count() == keys_before
    assert await AuditEvent.filter(organization_id=organization_id).count() == events_before
    assert (await audit_chain_verify(organization_id=organization_id)).ok


async def test_an_event_outside_a_transaction_is_refused(db: None, api: Api, clock: Clock) -> None:
    with pytest.raises(RuntimeError, match="inside the transaction"):
        await audit_record(
            organization_id=uuid.uuid4(),
            action="api_key.created",
            actor=SYSTEM,
            target=None,
            details=None,
            context=NO_REQUEST,
            now=clock.now,
        )


async def test_retention_keeps_the_chain_verifiable_from_the_first_kept_event(
    api: Api, db: None, clock: Clock
) -> None:
    # given five events a year and a half ago, then two today
    organization_id = await _organization(api)
    clock.advance(days=500)
    async with in_transaction():
        for n in range(2):
            await audit_record(
                organization_id=organization_id,
                action="organization.renamed",
                actor=SYSTEM,
                target=Target("organization", str(organization_id), f"name {n}"),
                details=None,
                context=NO_REQUEST,
                now=clock.now,
            )
    last_old = await AuditEvent.get(organization_id=organization_id, sequence=5)
    # when
    removed = await audit_events_purge(now=clock.now, retention_days=365)
    # then
    assert removed == 5
    kept = await AuditEvent.filter(organization_id=organization_id).order_by("sequence")
    assert [event.sequence for event in kept] == [6, 7]
    chain = await AuditChain.get(organization_id=organization_id)
    assert (chain.anchor_sequence, chain.anchor_hash) == (5, last_old.hash)
    assert kept[0].previous_hash == last_old.hash
    check = await audit_chain_verify(organization_id=organization_id)
    assert (check.ok, check.checked) == (True, 2)
    assert await audit_events_purge(now=clock.now, retention_days=365) == 0
    clock.advance(days=1)


async def test_the_command_line_says_where_the_chain_breaks(
    api: Api, db: None, settings: Settings
) -> None:
    organization_id = await _organization(api)
    env = server_env(settings.database_url)

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                sys.executable,
                "server.py",
                "audit",
                "verify",
                "--organization",
                str(organization_id),
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    whole = run()
    assert whole.returncode == 0, whole.stderr
    assert f"audit chain of {organization_id}: ok, 5 events" in whole.stdout
    await AuditEvent.filter(organization_id=organization_id, sequence=4).update(
        details={"type": "PUBLIC"}
    )
    broken = run()
    assert broken.returncode == 1, broken.stderr
    assert "BROKEN at event #4: the event was altered (3 events before it verify)" in broken.stdout


async def test_events_are_ordered_by_their_chain_even_at_one_instant(
    api: Api, db: None, clock: Clock
) -> None:
    organization_id = await _organization(api)
    events = await AuditEvent.filter(organization_id=organization_id).order_by("sequence")
    assert [event.sequence for event in events] == [1, 2, 3, 4, 5]
    assert all(event.occurred_at == clock.now for event in events)
    assert all(b.previous_hash == a.hash for a, b in zip(events, events[1:], strict=False))
    assert events[0].previous_hash == audit.GENESIS_HASH
    assert clock.now - timedelta(0) == events[0].occurred_at
