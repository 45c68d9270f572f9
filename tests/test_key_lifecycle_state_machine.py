"""A stateful property test of the key lifecycle: hypothesis drives create, roll, delete,
verify, clock moves and the scheduled jobs in random order against a real database, and after
every step a plain model and the service agree on what each token verifies as.

It runs as two API processes would, each with its verification cache on: the changes go through
the first, which must refuse a revoked key at once, and every token is verified through both;
the second may lag behind a change by at most `PROPAGATION_BOUND_SECONDS` of its running time.

100 examples of 30 steps run in CI on SQLite (about 17 s here), 20 on PostgreSQL (about 20 s);
`STATE_MACHINE_EXAMPLES` overrides both.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from tortoise.context import TortoiseContext

from models import housekeeping
from models.api_keys import api_key_create, api_key_delete, api_key_roll
from models.database import database_close, database_entered, database_open
from models.entities import ApiKeyType, Organization
from models.errors import ApiKeyNotFound, ApiKeyNotRollable
from models.key_cache_runner import key_cache_running
from models.key_verification import api_key_verify
from models.policies import KeyPolicy
from tests.harness import ON_POSTGRES, key_managed, key_manager

T = TypeVar("T")
# The SQLite pass runs the full 100; the PostgreSQL pass (~1 ms a statement) a sample of 20.
EXAMPLES = int(os.environ.get("STATE_MACHINE_EXAMPLES", "20" if ON_POSTGRES else "100"))
RETENTION_SECONDS = 3_600  # the purge job keeps expired keys an hour, so EXPIRED is observable
# The second "process" shares this event loop with hypothesis, so its bound is looser than the
# one tests/test_key_cache_processes.py holds real processes to.
PROPAGATION_BOUND_SECONDS = 0.25 if ON_POSTGRES else 0.5


@dataclass
class ModelKey:
    """What the model knows of one key."""

    id: uuid.UUID
    expires_at: datetime | None
    rolled: bool = False
    gone: bool = False  # deleted, or purged by the job

    def code(self, now: datetime) -> str:
        if self.gone:
            return "NOT_FOUND"
        if self.expires_at is not None and self.expires_at <= now:
            return "EXPIRED"
        return "VALID"


class KeyLifecycle(RuleBasedStateMachine):
    loop: asyncio.AbstractEventLoop
    other: TortoiseContext  # the second process's database, with its own cache

    tokens = Bundle("tokens")

    def __init__(self) -> None:
        super().__init__()
        self.now = datetime(2030, 1, 1, tzinfo=UTC)
        self.keys: dict[str, ModelKey] = {}
        self.organization_id = self.run(self._organization())

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coroutine)

    async def _organization(self) -> uuid.UUID:
        organization = await Organization.create(name="machine", created_at=self.now)
        return organization.id

    @initialize(target=tokens)
    def first_key(self) -> Any:
        return self.create(ApiKeyType.SECRET, None)

    @rule(
        target=tokens,
        type=st.sampled_from(ApiKeyType),
        expires_in=st.none() | st.integers(min_value=1, max_value=3 * 86_400),
    )
    def create(self, type: ApiKeyType, expires_in: int | None) -> str:
        expires_at = None if expires_in is None else self.now + timedelta(seconds=expires_in)
        key, token = self.run(
            api_key_create(
                access=self.run(key_manager(self.organization_id)),
                name="k",
                type=type,
                expires_at=expires_at,
                now=self.now,
                policy=KeyPolicy(),
            )
        )
        self.keys[token] = ModelKey(id=key.id, expires_at=expires_at)
        return token

    @rule(
        target=tokens,
        token=tokens,
        grace=st.sampled_from([0, 1, 60, 3_600, 43_200, 604_800]),
    )
    def roll(self, token: str, grace: int) -> str:
        model = self.keys[token]
        try:
            new, new_token, _ = self.run(
                api_key_roll(
                    access=self.run(key_managed(self.organization_id, model.id)),
                    policy=KeyPolicy(),
                    grace_seconds=grace,
                    now=self.now,
                )
            )
        except ApiKeyNotFound:
            assert model.gone
            return token
        except ApiKeyNotRollable:
            assert not model.gone and (model.rolled or model.code(self.now) == "EXPIRED")
            return token
        assert model.code(self.now) == "VALID" and not model.rolled
        grace_end = self.now + timedelta(seconds=grace)
        self.keys[new_token] = ModelKey(id=new.id, expires_at=model.expires_at)
        model.rolled = True
        model.expires_at = (
            grace_end if model.expires_at is None else min(model.expires_at, grace_end)
        )
        return new_token

    @rule(token=tokens)
    def delete(self, token: str) -> None:
        model = self.keys[token]
        try:
            self.run(api_key_delete(access=self.run(key_managed(self.organization_id, model.id))))
        except ApiKeyNotFound:
            assert model.gone
            return
        assert not model.gone
        model.gone = True

    @rule(seconds=st.sampled_from([1, 59, 60, 3_599, 3_600, 43_200, 86_400, 7 * 86_400]))
    def advance_clock(self, seconds: int) -> None:
        self.now += timedelta(seconds=seconds)

    @rule()
    def run_jobs(self) -> None:
        self.run(housekeeping.api_keys_expire_rolled(now=self.now))
        self.run(
            housekeeping.api_keys_purge_expired(now=self.now, retention_seconds=RETENTION_SECONDS)
        )
        cutoff = self.now - timedelta(seconds=RETENTION_SECONDS)
        for model in self.keys.values():
            if model.expires_at is not None and model.expires_at <= cutoff:
                model.gone = True

    @rule(token=tokens)
    def verify(self, token: str) -> None:
        result = self.run(api_key_verify(token=token, now=self.now))
        assert result.code.value == self.keys[token].code(self.now)

    @invariant()
    def every_token_verifies_as_the_model_says(self) -> None:
        for token, model in self.keys.items():
            result = self.run(api_key_verify(token=token, now=self.now))
            assert result.code.value == model.code(self.now), (token[:6], model, self.now)
            if result.valid:
                assert result.key_id == model.id

    @invariant()
    def the_other_process_agrees_within_the_bound(self) -> None:
        self.run(self._agreed())

    async def _agreed(self) -> None:
        deadline = time.monotonic() + PROPAGATION_BOUND_SECONDS
        for token, model in self.keys.items():
            while True:
                with database_entered(self.other):
                    result = await api_key_verify(token=token, now=self.now)
                if result.code.value == model.code(self.now):
                    break
                assert time.monotonic() < deadline, (token[:6], model, result, self.now)
                await asyncio.sleep(0.002)  # let the other process's cache hear the change


@pytest.fixture
def machine_database(
    new_database: Callable[[], str],
) -> Iterator[tuple[asyncio.AbstractEventLoop, TortoiseContext]]:
    url = new_database()  # a fresh SQLite file or PostgreSQL schema, migrated on open
    loop = asyncio.new_event_loop()
    ctx: TortoiseContext = loop.run_until_complete(database_open(url, create_schema=True))
    other: TortoiseContext = loop.run_until_complete(database_open(url))
    caches = AsyncExitStack()

    async def caches_on() -> None:
        for database in (ctx, other):
            with database_entered(database):
                cache = await caches.enter_async_context(
                    key_cache_running(
                        database.db(), url, size=10_000, negative_seconds=2, max_age_seconds=60
                    )
                )
            assert cache is not None
            for _ in range(500):  # up to 5 s to connect its LISTEN / read its counter
                if cache.hearing:
                    break
                await asyncio.sleep(0.01)
            assert cache.hearing

    loop.run_until_complete(caches_on())
    ctx.__enter__()
    try:
        yield loop, other
    finally:
        ctx.__exit__(None, None, None)
        loop.run_until_complete(caches.aclose())
        loop.run_until_complete(database_close(other))
        loop.run_until_complete(database_close(ctx))
        loop.close()


def test_the_key_lifecycle_state_machine(
    machine_database: tuple[asyncio.AbstractEventLoop, TortoiseContext],
) -> None:
    KeyLifecycle.loop, KeyLifecycle.other = machine_database
    run_state_machine_as_test(  # type: ignore[no-untyped-call]
        KeyLifecycle,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=30,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
