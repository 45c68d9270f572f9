"""Bounded work per request and per user, and a lock-out that one attacker cannot cause: the cost
limit (computed before execution), one password-checking mutation per request whatever the
aliases, organizations per user, sign-ups per address, and ASVS's sign-in counting."""

from __future__ import annotations

from typing import Any

import pytest

from models.entities import Organization, User
from settings import Settings
from tests.harness import FAST_PASSWORDS, PASSWORD, Api, Clock
from tests.support import CREATE_ORGANIZATION

PAGE_FIELDS = "edges { node { id name type start createdAt status } }"
FIFTEEN_PAGES = (
    "query Pages($id: ID, $first: Int) { organization(id: $id) { "
    + " ".join(f"a{i}: apiKeys(first: $first) {{ {PAGE_FIELDS} }}" for i in range(15))
    + " } }"
)
SIGN_UP_AND_SIGN_IN = """
mutation Both($up: SignUpInput!, $in: SignInInput!) {
  signUp(input: $up) { __typename }
  ...more
}
fragment more on Mutation { signIn(input: $in) { __typename } }
"""
SIGN_UP_RESULT = """
mutation SignUp($input: SignUpInput!) {
  signUp(input: $input) {
    __typename ... on TooManyAttempts { retryAfterSeconds } ... on Error { message }
  }
}
"""
SIGN_IN_RESULT = """
mutation SignIn($input: SignInInput!) {
  signIn(input: $input) { __typename ... on TooManyAttempts { retryAfterSeconds } }
}
"""
ORGANIZATION_LIMIT = 3
SIGN_UP_LIMIT = 4
PER_EMAIL_LIMIT = 20


@pytest.fixture
def settings(database_url: str) -> Settings:
    limits: dict[str, Any] = {
        **FAST_PASSWORDS,
        "max_organizations_per_user": ORGANIZATION_LIMIT,
        "sign_up_max_per_address_per_hour": SIGN_UP_LIMIT,
        "sign_in_max_failures_per_email": PER_EMAIL_LIMIT,
        "trusted_proxy_hops": 1,
    }
    return Settings(database_url=database_url, **limits)


async def test_a_document_over_the_cost_limit_is_refused_with_its_cost(api: Api) -> None:
    # given fifteen aliased pages of keys: 1 + 15 × (1 + first × 8) nodes
    account = await api.sign_up()
    variables: dict[str, Any] = {"id": account.organization_id}
    # when each page asks for 100 keys
    status, body = await api.raw(FIFTEEN_PAGES, {**variables, "first": 100}, account.session)
    # then the document is refused before anything runs, with its cost
    assert status == 200
    assert body.get("data") is None
    [error] = body["errors"]
    assert error["extensions"] == {"code": "COST_LIMIT", "cost": 12_016, "maxCost": 10_000}
    # and with 50 a page (6,016 nodes) it runs
    data = await api.query(FIFTEEN_PAGES, {**variables, "first": 50}, account.session)
    assert len(data["organization"]["a14"]["edges"]) == 1


async def test_a_page_left_at_its_default_counts_the_default(api: Api) -> None:
    # given a page without `first` (the schema's default, 50) fourteen times
    account = await api.sign_up()
    pages = " ".join(f"a{i}: apiKeys {{ {PAGE_FIELDS} }}" for i in range(14))
    document = "query Q($id: ID) { organization(id: $id) { " + pages + " } }"
    # when
    data = await api.query(document, {"id": account.organization_id}, account.session)
    # then it runs (1 + 14 × 401 = 5,615 nodes)...
    assert len(data["organization"]["a0"]["edges"]) == 1
    # and pages spread from a fragment count where spread: ten of 100 there, five defaults here
    hundreds = " ".join(f"x{i}: apiKeys(first: 100) {{ {PAGE_FIELDS} }}" for i in range(10))
    defaults = " ".join(f"a{i}: apiKeys {{ {PAGE_FIELDS} }}" for i in range(5))
    document = (
        "query Q($id: ID) { organization(id: $id) { ...page "
        + defaults
        + " } } fragment page on Organization { "
        + hundreds
        + " }"
    )
    error = await api.error(document, {"id": account.organization_id}, account.session)
    assert error["extensions"]["code"] == "COST_LIMIT"
    assert error["extensions"]["cost"] == 1 + 10 * 801 + 5 * 401


async def test_a_document_is_refused_again_when_sent_again(api: Api) -> None:
    # given fifteen pages of 100 written into the document (its cost known from the first time)
    account = await api.sign_up()
    literal = FIFTEEN_PAGES.replace(", $first: Int", "").replace("$first", "100")
    variables = {"id": account.organization_id}
    # when it is sent twice
    first = await api.error(literal, variables, account.session)
    again = await api.error(literal, variables, account.session)
    # then both are refused alike
    assert first == again
    assert first["extensions"] == {"code": "COST_LIMIT", "cost": 12_016, "maxCost": 10_000}


async def test_two_password_mutations_in_one_request_are_refused(api: Api, db: None) -> None:
    # given a user, and a document running signUp and (through a fragment) signIn
    account = await api.sign_up()
    users = await User.all().count()
    variables = {
        "up": {"email": "new@example.com", "password": PASSWORD},
        "in": {"email": account.email, "password": PASSWORD},
    }
    # when
    error = await api.error(SIGN_UP_AND_SIGN_IN, variables)
    # then nothing ran
    assert error["extensions"]["code"] == "EXPENSIVE_OPERATION_LIMIT"
    assert await User.all().count() == users


async def test_one_user_may_belong_to_a_bounded_number_of_organizations(api: Api, db: None) -> None:
    # given a user with their first organization and one more
    account = await api.sign_up()
    for name in ("Second", "Third"):
        data = await api.query(
            CREATE_ORGANIZATION, {"input": {"name": name}}, token=account.session
        )
        assert data["createOrganization"]["__typename"] == "OrganizationCreated"
    # when they create one past the limit
    data = await api.query(CREATE_ORGANIZATION, {"input": {"name": "Fourth"}}, account.session)
    # then it is refused, and not created
    result = data["createOrganization"]
    assert result["__typename"] == "InvalidInput"
    assert f"{ORGANIZATION_LIMIT} organizations" in result["message"]
    assert await Organization.filter(name="Fourth").count() == 0


async def _sign_up(api: Api, n: int, address: str) -> dict[str, Any]:
    response = await api.client.post(
        "/graphql",
        json={
            "query": SIGN_UP_RESULT,
            "variables": {"input": {"email": f"user{n}@example.com", "password": PASSWORD}},
        },
        headers={"X-Forwarded-For": address},
    )
    body = await response.json()
    assert "errors" not in body, body
    return body["data"]["signUp"]  # type: ignore[no-any-return]


async def test_sign_ups_are_limited_per_address_per_hour(api: Api, clock: Clock) -> None:
    # given the limit of sign-ups from one address
    for n in range(SIGN_UP_LIMIT):
        assert (await _sign_up(api, n, "203.0.113.5"))["__typename"] == "SignedIn"
    # when one more comes from it, and one from elsewhere
    refused = await _sign_up(api, 100, "203.0.113.5")
    elsewhere = await _sign_up(api, 101, "198.51.100.7")
    # then the first is refused for the rest of the hour, the other is not
    assert refused == {
        "__typename": "TooManyAttempts",
        "retryAfterSeconds": 3600,
        "message": refused["message"],
    }
    assert elsewhere["__typename"] == "SignedIn"
    clock.advance(hours=1)
    assert (await _sign_up(api, 102, "203.0.113.5"))["__typename"] == "SignedIn"


async def _sign_in(api: Api, email: str, password: str, address: str) -> str:
    response = await api.client.post(
        "/graphql",
        json={
            "query": SIGN_IN_RESULT,
            "variables": {"input": {"email": email, "password": password}},
        },
        headers={"X-Forwarded-For": address},
    )
    body = await response.json()
    assert "errors" not in body, body
    return str(body["data"]["signIn"]["__typename"])


async def test_an_attacker_elsewhere_cannot_lock_a_user_out(api: Api, clock: Clock) -> None:
    # given ten failures for the user's email from the attacker's address
    account = await api.sign_up()
    for _ in range(10):
        assert await _sign_in(api, account.email, "wrong", "203.0.113.66") == "InvalidCredentials"
    # when the attacker tries again, and the user signs in from their own address
    attacker = await _sign_in(api, account.email, PASSWORD, "203.0.113.66")
    user = await _sign_in(api, account.email, PASSWORD, "198.51.100.1")
    # then only the attacker's address is locked
    assert (attacker, user) == ("TooManyAttempts", "SignedIn")


async def test_an_email_is_locked_across_addresses_only_at_the_higher_bar(
    api: Api, clock: Clock
) -> None:
    # given failures for one email spread over addresses, ten from each
    account = await api.sign_up()
    for n in range(PER_EMAIL_LIMIT):
        address = f"203.0.113.{n // 10}"
        assert await _sign_in(api, account.email, "wrong", address) == "InvalidCredentials"
    # when anyone tries, from a fresh address, within the hour
    clock.advance(minutes=30)
    locked = await _sign_in(api, account.email, PASSWORD, "198.51.100.1")
    # then the email is locked until the hour has passed
    assert locked == "TooManyAttempts"
    clock.advance(minutes=31)
    assert await _sign_in(api, account.email, PASSWORD, "198.51.100.1") == "SignedIn"
