"""The jobs' safety property: whatever the keys, expirations, rolls and clock, housekeeping never
touches a key that is still valid, and removes exactly those past the retention.

What "still valid" means is written out here from the plan's raw timestamps, not asked of the
code under test: a key stops working at its `expires_at`; rolling an ACTIVE key sets its
`expires_at` to min(its expiry, roll time + grace), and the replacement keeps the old expiry.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from models.api_keys import api_key_create, api_key_roll
from models.entities import ApiKey, ApiKeyType, Organization
from models.errors import ApiKeyNotRollable
from models.housekeeping import api_keys_expire_rolled, api_keys_purge_expired
from models.policies import KeyPolicy
from tests.harness import Clock, key_managed, key_manager

MINUTE = timedelta(minutes=1)


@dataclass(frozen=True)
class KeyPlan:
    expires_in_minutes: int | None  # from creation
    roll_after_minutes: int | None  # from creation
    grace_minutes: int


@dataclass(frozen=True)
class Expected:
    """A key as the rule has it: when it stops working, and whether it was rolled."""

    stops_at: datetime | None
    rolled: bool

    def works(self, now: datetime) -> bool:
        return self.stops_at is None or now < self.stops_at


def _expected(plan: KeyPlan, start: datetime) -> tuple[Expected, Expected | None]:
    """The planned key, and its replacement if the roll found it still working."""
    expiry = None if plan.expires_in_minutes is None else start + plan.expires_in_minutes * MINUTE
    if plan.roll_after_minutes is None:
        return Expected(expiry, rolled=False), None
    rolled_at = start + plan.roll_after_minutes * MINUTE
    if expiry is not None and expiry <= rolled_at:  # it had stopped working: nothing to roll
        return Expected(expiry, rolled=False), None
    grace_end = rolled_at + plan.grace_minutes * MINUTE
    stops_at = grace_end if expiry is None else min(expiry, grace_end)
    return Expected(stops_at, rolled=True), Expected(expiry, rolled=False)


key_plans = st.builds(
    KeyPlan,
    expires_in_minutes=st.one_of(st.none(), st.integers(1, 600)),
    roll_after_minutes=st.one_of(st.none(), st.integers(0, 600)),
    grace_minutes=st.integers(0, 240),
)


def _row(key: ApiKey) -> dict[str, Any]:
    return {name: getattr(key, name) for name in key._meta.db_fields}


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    plans=st.lists(key_plans, min_size=1, max_size=8),
    jobs_after_minutes=st.integers(0, 900),
    retention_minutes=st.sampled_from([0, 1, 60, 600]),
    expire_first=st.booleans(),
)
# The boundaries, to the minute, that random plans rarely hit: a key whose end is exactly `now`
# (expired, no longer valid) or exactly the purge cutoff (purged), and one a minute later.
@example(
    plans=[
        KeyPlan(None, 10, 0),  # stops exactly now = the cutoff: purged
        KeyPlan(None, 10, 1),  # a minute of grace left: untouched
        KeyPlan(10, None, 0),  # expires exactly now: purged
        KeyPlan(11, None, 0),  # a minute left: untouched
        KeyPlan(10, 10, 5),  # expired at the moment of its roll: not rolled
    ],
    jobs_after_minutes=0,
    retention_minutes=0,
    expire_first=True,
)
@example(
    plans=[  # rolled at +10; the jobs run at +80 with an hour's retention: cutoff +20
        KeyPlan(None, 10, 70),  # stops exactly now: marked expired, kept
        KeyPlan(None, 10, 10),  # stops exactly at the cutoff: purged
        KeyPlan(None, 10, 11),  # a minute after the cutoff: marked expired, kept
        KeyPlan(20, None, 0),  # expired exactly at the cutoff: purged
        KeyPlan(21, None, 0),  # a minute after: kept, and never marked (it was never rolled)
        KeyPlan(81, None, 0),  # still valid: untouched
        KeyPlan(30, 10, 240),  # its own expiry ends the grace early: marked expired, kept
    ],
    jobs_after_minutes=70,
    retention_minutes=60,
    expire_first=False,
)
async def test_nothing_still_valid_is_ever_touched(
    db: None,
    clock: Clock,
    plans: list[KeyPlan],
    jobs_after_minutes: int,
    retention_minutes: int,
    expire_first: bool,
) -> None:
    # given keys created, some rolled, on a clock that only moves forward
    await ApiKey.all().delete()
    await Organization.all().delete()
    start = clock.now
    organization = await Organization.create(name="Acme", created_at=start)
    keys = []
    for plan in plans:
        expires_at = (
            None if plan.expires_in_minutes is None else start + plan.expires_in_minutes * MINUTE
        )
        key, _ = await api_key_create(
            access=await key_manager(organization.id),
            name="key",
            type=ApiKeyType.SECRET,
            expires_at=expires_at,
            now=start,
            policy=KeyPolicy(),
        )
        keys.append(key)
    expected: dict[uuid.UUID, Expected] = {}
    rolls = sorted(
        (plan.roll_after_minutes, key.id, plan)
        for plan, key in zip(plans, keys, strict=True)
        if plan.roll_after_minutes is not None
    )
    for after, key_id, plan in rolls:
        mine, replacement = _expected(plan, start)
        try:
            new, _, _ = await api_key_roll(
                access=await key_managed(organization.id, key_id),
                policy=KeyPolicy(),
                grace_seconds=plan.grace_minutes * 60,
                now=start + after * MINUTE,
            )
        except ApiKeyNotRollable:
            assert replacement is None, "a key that still worked could not be rolled"
        else:
            assert replacement is not None, "a key that had stopped working was rolled"
            expected[new.id] = replacement
    for plan, key in zip(plans, keys, strict=True):
        expected[key.id] = _expected(plan, start)[0]
    latest = max((after for after, _, _ in rolls), default=0)
    now = start + (latest + jobs_after_minutes) * MINUTE
    cutoff = now - retention_minutes * MINUTE
    before = {key.id: key for key in await ApiKey.all()}
    assert {key_id: key.expires_at for key_id, key in before.items()} == {
        key_id: rule.stops_at for key_id, rule in expected.items()
    }, "the stored expirations differ from the rule"

    # when both jobs run, in either order, twice
    async def jobs() -> None:
        if expire_first:
            await api_keys_expire_rolled(now=now)
        await api_keys_purge_expired(now=now, retention_seconds=retention_minutes * 60)
        await api_keys_expire_rolled(now=now)

    await jobs()
    await jobs()

    # then
    remaining = {key.id: key for key in await ApiKey.all()}
    for key_id, rule in expected.items():
        if rule.works(now):
            assert key_id in remaining, "a valid key was purged"
            assert _row(remaining[key_id]) == _row(before[key_id]), "a valid key changed"
        elif rule.stops_at is not None and rule.stops_at <= cutoff:
            assert key_id not in remaining, "a key past its retention survived"
        else:
            assert key_id in remaining, "a key inside its retention was purged"
            kept = remaining[key_id]
            assert kept.expired_at == (now if rule.rolled else None)
            assert _row(kept) | {"expired_at": None} == _row(before[key_id])
