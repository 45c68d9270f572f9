"""Sign-in brute force: 10 failures per (email, client address) in 15 minutes, a per-address
limit on top (the per-email limit across addresses: tests/test_attack_limits.py), counted in the
database so that every API process agrees. Every request here comes from one address."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest
from aiohttp import web

from models.passwords import Passwords
from server import create_app
from settings import Settings
from tests.harness import FAST_PASSWORDS, ON_POSTGRES, PASSWORD, SIGN_IN, Api, Clock

ADDRESS_LIMIT = 25

SIGN_IN_RESULT = """
  __typename
  ... on SignedIn { sessionToken }
  ... on TooManyAttempts { message retryAfterSeconds }
  ... on Error { message }
"""
SIGN_IN_TWELVE_TIMES = (
    "mutation Twelve($input: SignInInput!) { "
    + " ".join(f"a{i}: signIn(input: $input) {{ {SIGN_IN_RESULT} }}" for i in range(12))
    + " }"
)
SIGN_IN_FULL = (
    f"mutation SignIn($input: SignInInput!) {{ signIn(input: $input) {{ {SIGN_IN_RESULT} }} }}"
)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        sign_in_max_failures_per_address=ADDRESS_LIMIT,
        **FAST_PASSWORDS,  # type: ignore[arg-type]
    )


async def sign_in(api: Api, email: str, password: str) -> dict[str, Any]:
    data = await api.query(SIGN_IN_FULL, {"input": {"email": email, "password": password}})
    return data["signIn"]  # type: ignore[no-any-return]


async def fail(api: Api, email: str, times: int) -> None:
    for _ in range(times):
        result = await sign_in(api, email, "wrong password")
        assert result["__typename"] == "InvalidCredentials", result


async def test_the_eleventh_attempt_is_refused_even_with_the_right_password(
    api: Api, clock: Clock
) -> None:
    # given 10 failures
    account = await api.sign_up()
    await fail(api, account.email, 10)
    # when
    clock.advance(minutes=5)
    result = await sign_in(api, account.email, PASSWORD)
    # then
    assert result == {
        "__typename": "TooManyAttempts",
        "message": "Too many failed sign-in attempts. Try again later.",
        "retryAfterSeconds": 600,
    }


async def test_the_lock_ends_when_the_window_passes(api: Api, clock: Clock) -> None:
    # given a locked email
    account = await api.sign_up()
    await fail(api, account.email, 10)
    clock.advance(seconds=899)
    assert (await sign_in(api, account.email, PASSWORD))["__typename"] == "TooManyAttempts"
    # when
    clock.advance(seconds=1)
    # then
    assert (await sign_in(api, account.email, PASSWORD))["__typename"] == "SignedIn"


async def test_refused_attempts_do_not_extend_the_lock(api: Api, clock: Clock) -> None:
    # given a locked email that an attacker keeps hammering
    account = await api.sign_up()
    await fail(api, account.email, 10)
    for _ in range(14):
        clock.advance(minutes=1)
        assert (await sign_in(api, account.email, "x" * 8))["__typename"] == "TooManyAttempts"
    # when the first window has passed
    clock.advance(minutes=1)
    # then
    assert (await sign_in(api, account.email, PASSWORD))["__typename"] == "SignedIn"


async def test_nine_failures_leave_the_tenth_attempt(api: Api) -> None:
    account = await api.sign_up()
    await fail(api, account.email, 9)
    assert (await sign_in(api, account.email, PASSWORD))["__typename"] == "SignedIn"


async def test_a_success_clears_the_emails_failures(api: Api) -> None:
    # given 9 failures, then the right password
    account = await api.sign_up()
    await fail(api, account.email, 9)
    assert (await sign_in(api, account.email, PASSWORD))["__typename"] == "SignedIn"
    # when 9 more failures
    await fail(api, account.email, 9)
    # then the owner still gets in
    assert (await sign_in(api, account.email, PASSWORD))["__typename"] == "SignedIn"


async def test_aliases_are_refused_and_count_nothing(api: Api) -> None:
    # given
    account = await api.sign_up()
    # when 12 sign-ins in one request
    error = await api.error(
        SIGN_IN_TWELVE_TIMES, {"input": {"email": account.email, "password": "wrong password"}}
    )
    # then the request is refused before any runs, and counts no attempt
    assert error["extensions"]["code"] == "EXPENSIVE_OPERATION_LIMIT"
    await fail(api, account.email, 10)
    assert (await sign_in(api, account.email, PASSWORD))["__typename"] == "TooManyAttempts"


async def test_an_unknown_email_is_locked_alike(api: Api) -> None:
    # given
    await fail(api, "nobody@example.com", 10)
    # when
    result = await sign_in(api, "NOBODY@example.com ", PASSWORD)
    # then
    assert result["__typename"] == "TooManyAttempts"


async def test_the_email_is_matched_ignoring_case_and_spaces(api: Api) -> None:
    account = await api.sign_up()
    await fail(api, account.email.upper(), 5)
    await fail(api, f"  {account.email} ", 5)
    assert (await sign_in(api, account.email, PASSWORD))["__typename"] == "TooManyAttempts"


async def test_one_address_is_limited_across_emails(api: Api) -> None:
    # given failures for many emails from one address
    account = await api.sign_up()
    for i in range(ADDRESS_LIMIT):
        await fail(api, f"guess{i}@example.com", 1)
    # when
    result = await sign_in(api, account.email, PASSWORD)
    # then
    assert result["__typename"] == "TooManyAttempts"
    assert 0 < result["retryAfterSeconds"] <= 900


async def test_an_unknown_email_costs_the_same_argon2_work(
    api: Api, passwords: Passwords, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given
    account = await api.sign_up()
    checked: list[str] = []
    hasher = passwords._hasher

    class CountingHasher:
        def verify(self, stored: str, password: str) -> bool:
            checked.append(stored)
            return hasher.verify(stored, password)

    monkeypatch.setattr(passwords, "_hasher", CountingHasher())
    # when
    await fail(api, account.email, 1)
    await fail(api, "nobody@example.com", 1)
    # then both ran one argon2 verification, with the same parameters
    assert len(checked) == 2
    assert checked[0].split("$")[:4] == checked[1].split("$")[:4]


async def test_the_limit_holds_across_api_processes(
    settings: Settings, clock: Clock, passwords: Passwords, aiohttp_client: Any
) -> None:
    # given two API processes on one database
    first: web.Application = create_app(settings, clock=clock, passwords=passwords)
    second: web.Application = create_app(settings, clock=clock, passwords=passwords)
    api_one, api_two = Api(await aiohttp_client(first)), Api(await aiohttp_client(second))
    account = await api_one.sign_up()
    # when failures are spread over both
    await fail(api_one, account.email, 5)
    await fail(api_two, account.email, 5)
    # then both refuse
    for api in (api_one, api_two):
        assert (await sign_in(api, account.email, PASSWORD))["__typename"] == "TooManyAttempts"


async def test_sign_in_document_from_conftest_still_works(api: Api) -> None:
    account = await api.sign_up()
    data = await api.query(SIGN_IN, {"input": {"email": account.email, "password": PASSWORD}})
    assert data["signIn"]["__typename"] == "SignedIn"


def _request(forwarded: list[str]) -> web.Request:
    from aiohttp.test_utils import make_mocked_request
    from multidict import CIMultiDict

    headers = CIMultiDict(("X-Forwarded-For", value) for value in forwarded)
    return make_mocked_request("POST", "/graphql", headers=headers)


def test_the_client_address_trusts_only_the_configured_proxies() -> None:
    from web.client import client_address

    spoofed = _request(["6.6.6.6, 203.0.113.7", "10.0.0.2"])
    assert client_address(spoofed, 0) != "203.0.113.7"  # no proxy trusted: the peer
    assert client_address(spoofed, 1) == "10.0.0.2"
    assert client_address(spoofed, 2) == "203.0.113.7"
    assert client_address(_request(["203.0.113.7"]), 2) == client_address(_request([]), 0)


async def test_concurrent_attempts_get_exactly_ten_tries(api: Api) -> None:
    # given
    account = await api.sign_up()
    # when 20 wrong sign-ins race
    results = await asyncio.gather(
        *(sign_in(api, account.email, "wrong password") for _ in range(20))
    )
    # then 10 were checked, the rest refused (on PostgreSQL an insert whose commit trails a
    # later one's may go unseen for a moment: at most one extra try, see models/sign_in_attempts)
    kinds = Counter(result["__typename"] for result in results)
    checked = kinds["InvalidCredentials"]
    assert checked == 10 or (ON_POSTGRES and checked == 11), kinds
    assert checked + kinds["TooManyAttempts"] == 20


async def test_the_purge_deletes_only_attempts_past_the_window(
    api: Api, clock: Clock, db: None
) -> None:
    from models.entities import SignInAttempt
    from models.housekeeping import sign_in_attempts_purge

    # given 3 old failures and 2 recent ones
    await fail(api, "old@example.com", 3)
    clock.advance(minutes=15)
    await fail(api, "new@example.com", 2)
    # when
    purged = await sign_in_attempts_purge(now=clock.now, window_seconds=900, batch_size=2)
    again = await sign_in_attempts_purge(now=clock.now, window_seconds=900)
    # then
    assert (purged, again) == (3, 0)
    assert await SignInAttempt.all().count() == 2
