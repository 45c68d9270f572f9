"""The jobs' safety property: whatever the keys, expirations, rolls and clock, housekeeping never
touches a key that is still valid, and removes exactly those past the retention."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.api_keys import api_key_create, api_key_roll
from models.entities import ApiKey, ApiKeyStatus, ApiKeyType, Organization
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
    rolls = sorted(
        (plan.roll_after_minutes, key.id, plan.grace_minutes)
        for plan, key in zip(plans, keys, strict=True)
        if plan.roll_after_minutes is not None
    )
    for after, key_id, grace in rolls:
        try:
            await api_key_roll(
                access=await key_managed(organization.id, key_id),
                policy=KeyPolicy(),
                grace_seconds=grace * 60,
                now=start + after * MINUTE,
            )
        except ApiKeyNotRollable:
            pass  # already expired at that moment: nothing to roll
    latest = max((after for after, _, _ in rolls), default=0)
    now = start + (latest + jobs_after_minutes) * MINUTE
    cutoff = now - retention_minutes * MINUTE
    before = {key.id: key for key in await ApiKey.all()}

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
    for key_id, key in before.items():
        if key.status(now) is not ApiKeyStatus.EXPIRED:
            assert key_id in remaining and _row(remaining[key_id]) == _row(key), (
                "a valid key changed"
            )
        elif key.expires_at is not None and key.expires_at <= cutoff:
            assert key_id not in remaining, "a key past its retention survived"
        else:
            kept = remaining[key_id]
            expected = now if key.rolled_at is not None else None
            assert kept.expired_at == (key.expired_at or expected)
            assert _row(kept) | {"expired_at": None} == _row(key) | {"expired_at": None}
