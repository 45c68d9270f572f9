"""Key restrictions end to end: createApiKey and updateApiKey set them, `POST /v1/keys/verify` and
`verifyApiKey` obey them (FORBIDDEN with a reason; REPORT_ONLY lets through and records), rolls
copy them, and a network-restricted key used as a bearer on keyward's own API gets 401."""

from __future__ import annotations

from typing import Any

import pytest

from models.usage import usage_flush
from settings import Settings
from tests.harness import API_KEY_FIELDS, FAST_PASSWORDS, Account, Api, Clock
from tests.support import assert_code, assert_unauthorized, random_id, roll, unknown_token

RESTRICTION_FIELDS = f"""
    {API_KEY_FIELDS} allowedCidrs allowedOrigins restrictionMode
    lastDenial {{ at reason address origin }}
"""
CREATE = f"""
mutation Create($input: CreateApiKeyInput!) {{
  createApiKey(input: $input) {{
    __typename
    ... on ApiKeyCreated {{ token apiKey {{ {RESTRICTION_FIELDS} }} }}
    ... on Error {{ message }}
    ... on InvalidInput {{ field problems {{ field message }} }}
  }}
}}
"""
UPDATE = f"""
mutation Update($input: UpdateApiKeyInput!) {{
  updateApiKey(input: $input) {{
    __typename
    ... on ApiKeyUpdated {{ apiKey {{ {RESTRICTION_FIELDS} }} }}
    ... on Error {{ message }}
    ... on InvalidInput {{ field problems {{ field message }} }}
  }}
}}
"""
KEY = f"query Key($id: ID!) {{ apiKey(id: $id) {{ {RESTRICTION_FIELDS} }} }}"
USAGE = """
query Usage($id: ID!) { apiKey(id: $id) { usage(bucket: DAY) { valid forbidden reported total } } }
"""
VERIFY = """
query Verify($token: String!, $clientIp: String, $origin: String) {
  verifyApiKey(token: $token, clientIp: $clientIp, origin: $origin) { valid code reason keyId }
}
"""
AUDIT = """
query Audit($id: ID) { organization(id: $id) { auditEvents(first: 1, actions: ["api_key.updated"])
  { edges { node { action target { id } details } } } } }
"""
ME = "query { organization { id } }"
OFFICE = "203.0.113.0/24"
APP = "https://app.example.com"


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Behind one trusted proxy, so a test can say where a bearer's request comes from."""
    return Settings(
        database_url=database_url,
        trusted_proxy_hops=1,
        **FAST_PASSWORDS,  # type: ignore[arg-type]
    )


async def _create(api: Api, account: Account, **input: Any) -> dict[str, Any]:
    variables = {"input": {"organizationId": account.organization_id, "name": "k", **input}}
    data = await api.query(CREATE, variables, token=account.session)
    return data["createApiKey"]  # type: ignore[no-any-return]


async def _restricted(api: Api, account: Account, **input: Any) -> tuple[dict[str, Any], str]:
    result = await _create(api, account, **input)
    assert result["__typename"] == "ApiKeyCreated", result
    return result["apiKey"], result["token"]


async def _update(api: Api, token: str, key_id: str, **input: Any) -> dict[str, Any]:
    data = await api.query(UPDATE, {"input": {"id": key_id, **input}}, token=token)
    return data["updateApiKey"]  # type: ignore[no-any-return]


async def _verify(api: Api, token: str, **caller: str) -> tuple[int, dict[str, Any]]:
    response = await api.client.post("/v1/keys/verify", json={"key": token, **caller})
    return response.status, await response.json()


async def _verdict(api: Api, token: str, **caller: str) -> dict[str, Any]:
    status, body = await _verify(api, token, **caller)
    assert status == 200, body
    return body


def _forbidden(reason: str) -> dict[str, Any]:
    return {"valid": False, "code": "FORBIDDEN", "reason": reason}


async def test_create_stores_restrictions_normalised(api: Api) -> None:
    # given
    account = await api.sign_up()
    # when
    key, _ = await _restricted(
        api,
        account,
        allowedCidrs=["203.0.113.0/24", "2001:DB8::1"],
        allowedOrigins=["HTTPS://App.Example.com:443", "https://*.Bücher.example"],
        restrictionMode="REPORT_ONLY",
    )
    # then
    assert key["allowedCidrs"] == [OFFICE, "2001:db8::1/128"]
    assert key["allowedOrigins"] == [APP, "https://*.xn--bcher-kva.example"]
    assert (key["restrictionMode"], key["lastDenial"]) == ("REPORT_ONLY", None)
    # and a key made without them is unrestricted and enforcing
    plain, _ = await _restricted(api, account)
    assert (plain["allowedCidrs"], plain["allowedOrigins"]) == ([], [])
    assert plain["restrictionMode"] == "ENFORCE"


async def test_create_lists_every_bad_entry(api: Api) -> None:
    # given
    account = await api.sign_up()
    # when
    result = await _create(
        api,
        account,
        name=" ",
        allowedCidrs=["10.0.0.1/8", "10.0.0.0/8", "nope"],
        allowedOrigins=["https://ok.example.com", "https://x.example.com/path"],
    )
    # then the name, both bad networks and the bad origin are named in one answer
    assert result["__typename"] == "InvalidInput"
    assert [p["field"] for p in result["problems"]] == [
        "name",
        "allowedCidrs",
        "allowedCidrs",
        "allowedOrigins",
    ]
    assert "did you mean 10.0.0.0/8?" in result["problems"][1]["message"]


async def test_a_network_restricted_key_answers_by_the_callers_address(api: Api) -> None:
    # given
    account = await api.sign_up()
    key, token = await _restricted(api, account, allowedCidrs=[OFFICE, "2001:db8::/32"])
    # then inside: VALID, naming the key
    inside = await _verdict(api, token, clientIp="203.0.113.9")
    assert (inside["code"], inside["keyId"]) == ("VALID", key["id"])
    assert (await _verdict(api, token, clientIp="::ffff:203.0.113.9"))["valid"] is True
    assert (await _verdict(api, token, clientIp="2001:db8:ffff::1"))["valid"] is True
    # and outside, or without an address: FORBIDDEN, naming nothing
    for caller in ({"clientIp": "198.51.100.1"}, {"clientIp": "2001:db9::1"}, {}):
        assert await _verdict(api, token, **caller) == _forbidden("IP_NOT_ALLOWED"), caller
    # an origin does not stand in for an address
    assert await _verdict(api, token, origin=APP) == _forbidden("IP_NOT_ALLOWED")


async def test_an_origin_restricted_key_answers_by_the_callers_origin(api: Api) -> None:
    # given a public key for a web app and its subdomains
    account = await api.sign_up()
    _, token = await _restricted(
        api, account, type="PUBLIC", allowedOrigins=[APP, "https://*.example.net"]
    )
    # then
    allowed = [
        APP,
        "https://APP.example.com:443",
        f"{APP}/checkout?step=2",
        "https://a.b.example.net",
    ]
    for origin in allowed:
        assert (await _verdict(api, token, origin=origin))["code"] == "VALID", origin
    refused = [
        "https://example.net",
        "http://app.example.com",
        "https://app.example.com:8443",
        "null",
    ]
    for origin in refused:
        assert await _verdict(api, token, origin=origin) == _forbidden("ORIGIN_NOT_ALLOWED"), origin
    assert await _verdict(api, token) == _forbidden("ORIGIN_NOT_ALLOWED")
    assert await _verdict(api, token, clientIp="203.0.113.9") == _forbidden("ORIGIN_NOT_ALLOWED")


async def test_restrictions_come_after_malformed_unknown_and_expired(
    api: Api, clock: Clock
) -> None:
    # given a restricted key that expires in a second
    account = await api.sign_up()
    _, token = await _restricted(
        api, account, allowedCidrs=[OFFICE], expiresAt="2030-01-01T12:00:01Z"
    )
    outside = {"clientIp": "198.51.100.1"}
    # then an unknown or malformed token is that, from anywhere
    assert (await _verdict(api, unknown_token(), **outside))["code"] == "NOT_FOUND"
    assert (await _verdict(api, "sk_nope", **outside))["code"] == "MALFORMED"
    assert (await _verdict(api, token, **outside))["code"] == "FORBIDDEN"
    # and once expired, the key is EXPIRED even from outside
    clock.advance(seconds=1)
    assert await _verdict(api, token, **outside) == {"valid": False, "code": "EXPIRED"}


@pytest.mark.parametrize(
    ("caller", "named"),
    [
        ({"clientIp": "203.0.113"}, "clientIp"),
        ({"clientIp": "example.com"}, "clientIp"),
        ({"origin": "app.example.com"}, "origin"),
        ({"origin": "ftp://app.example.com"}, "origin"),
        ({"clientIp": 7}, "clientIp"),
    ],
)
async def test_a_malformed_caller_is_a_400_naming_the_field(
    api: Api, caller: dict[str, Any], named: str
) -> None:
    # given an unrestricted key: a malformed caller is refused whatever the key
    account = await api.sign_up()
    # when
    response = await api.client.post(
        "/v1/keys/verify", json={"key": account.default_key["token"], **caller}
    )
    # then
    assert response.status == 400
    assert response.content_type == "application/problem+json"
    assert named in (await response.json())["detail"]


async def test_report_only_lets_through_and_records_the_would_be_denial(
    api: Api, db: None, clock: Clock
) -> None:
    # given a key in report-only mode
    account = await api.sign_up()
    key, token = await _restricted(
        api, account, allowedCidrs=[OFFICE], restrictionMode="REPORT_ONLY"
    )
    # when a caller outside its networks uses it, and one inside
    outside = await _verdict(api, token, clientIp="::ffff:198.51.100.7")
    await _verdict(api, token, clientIp="203.0.113.1")
    await usage_flush()
    clock.advance(minutes=1)
    # then it was VALID, counted as reported, and the address is there to allow
    assert (outside["code"], outside["keyId"]) == ("VALID", key["id"])
    data = await api.query(USAGE, {"id": key["id"]}, account.session)
    assert data["apiKey"]["usage"][-1] == {"valid": 2, "forbidden": 0, "reported": 1, "total": 2}
    seen = (await api.query(KEY, {"id": key["id"]}, account.session))["apiKey"]["lastDenial"]
    assert seen == {
        "at": "2030-01-01T12:00:00Z",
        "reason": "IP_NOT_ALLOWED",
        "address": "198.51.100.7",
        "origin": None,
    }
    # when the owner allows that address and enforces, the same caller is VALID
    result = await _update(
        api,
        account.session,
        key["id"],
        allowedCidrs=[OFFICE, seen["address"]],
        restrictionMode="ENFORCE",
    )
    assert result["apiKey"]["allowedCidrs"] == [OFFICE, "198.51.100.7/32"]
    assert (await _verdict(api, token, clientIp="198.51.100.7"))["code"] == "VALID"
    assert await _verdict(api, token, clientIp="198.51.100.8") == _forbidden("IP_NOT_ALLOWED")


async def test_denials_are_counted_with_the_last_origin(api: Api, db: None, clock: Clock) -> None:
    # given
    account = await api.sign_up()
    key, token = await _restricted(api, account, type="PUBLIC", allowedOrigins=[APP])
    # when two refused uses and one good one
    await _verdict(api, token, origin="https://evil.example.org/page")
    clock.advance(seconds=5)
    await _verdict(api, token, origin="https://Other.example.org")
    await _verdict(api, token, origin=APP)
    await usage_flush()
    clock.advance(minutes=1)
    # then
    data = await api.query(USAGE, {"id": key["id"]}, account.session)
    assert data["apiKey"]["usage"][-1] == {"valid": 1, "forbidden": 2, "reported": 0, "total": 3}
    seen = (await api.query(KEY, {"id": key["id"]}, account.session))["apiKey"]["lastDenial"]
    assert seen["origin"] == "https://other.example.org"
    assert seen["reason"] == "ORIGIN_NOT_ALLOWED"


async def test_update_changes_restrictions_on_the_next_request(api: Api) -> None:
    # given an unrestricted key in use
    account = await api.sign_up()
    key, token = await _restricted(api, account, name="billing")
    assert (await _verdict(api, token, clientIp="198.51.100.1"))["valid"] is True
    # when restricted
    result = await _update(api, account.session, key["id"], allowedCidrs=[OFFICE])
    # then the very next request obeys, and the rest of the key is as it was
    assert result["__typename"] == "ApiKeyUpdated"
    assert result["apiKey"]["name"] == "billing"
    assert await _verdict(api, token, clientIp="198.51.100.1") == _forbidden("IP_NOT_ALLOWED")
    # and an empty list lifts it again
    lifted = await _update(api, account.session, key["id"], allowedCidrs=[])
    assert lifted["apiKey"]["allowedCidrs"] == []
    assert (await _verdict(api, token, clientIp="198.51.100.1"))["valid"] is True


async def test_update_records_what_changed(api: Api) -> None:
    # given
    account = await api.sign_up()
    key, _ = await _restricted(api, account, name="web", allowedOrigins=[APP])
    # when
    await _update(
        api,
        account.session,
        key["id"],
        name="web app",
        allowedOrigins=[APP, "http://localhost:3000"],
        allowedCidrs=[],
    )
    # then one event names each change (the unchanged empty networks are left out)
    data = await api.query(AUDIT, {"id": account.organization_id}, account.session)
    [edge] = data["organization"]["auditEvents"]["edges"]
    assert edge["node"]["target"]["id"] == key["id"]
    assert edge["node"]["details"] == {
        "start": key["start"],
        "name": {"from": "web", "to": "web app"},
        "allowedOrigins": {"from": [APP], "to": [APP, "http://localhost:3000"]},
    }


async def test_update_lists_every_bad_entry_and_changes_nothing(api: Api) -> None:
    # given
    account = await api.sign_up()
    key, _ = await _restricted(api, account, allowedCidrs=[OFFICE])
    # when
    result = await _update(
        api, account.session, key["id"], allowedCidrs=["x", "y"], allowedOrigins=["z"]
    )
    # then
    assert result["__typename"] == "InvalidInput"
    assert [p["field"] for p in result["problems"]] == [
        "allowedCidrs",
        "allowedCidrs",
        "allowedOrigins",
    ]
    after = (await api.query(KEY, {"id": key["id"]}, account.session))["apiKey"]
    assert after["allowedCidrs"] == [OFFICE]


async def test_update_of_a_key_the_caller_cannot_see_is_not_found(api: Api) -> None:
    # given
    owner = await api.sign_up()
    stranger = await api.sign_up()
    key, _ = await _restricted(api, owner)
    # when / then: another organization's key, and no key at all
    for key_id in (key["id"], random_id(), "not-an-id"):
        result = await _update(api, stranger.session, key_id, allowedCidrs=[OFFICE])
        assert result["__typename"] == "ApiKeyNotFound", key_id


async def test_update_needs_a_credential(api: Api) -> None:
    # given
    owner = await api.sign_up()
    key, _ = await _restricted(api, owner)
    # when
    error = await api.error(UPDATE, {"input": {"id": key["id"], "allowedCidrs": []}})
    # then
    assert_code(error, "UNAUTHENTICATED")


async def test_a_roll_copies_the_restrictions(api: Api) -> None:
    # given
    account = await api.sign_up()
    key, _ = await _restricted(
        api, account, allowedCidrs=[OFFICE], allowedOrigins=[APP], restrictionMode="REPORT_ONLY"
    )
    # when
    rolled = await roll(api, account.session, key["id"])
    # then the replacement works where the old key did
    new = (await api.query(KEY, {"id": rolled["apiKey"]["id"]}, account.session))["apiKey"]
    assert (new["allowedCidrs"], new["allowedOrigins"]) == ([OFFICE], [APP])
    assert new["restrictionMode"] == "REPORT_ONLY"


async def test_verify_api_key_obeys_restrictions(api: Api) -> None:
    # given
    account = await api.sign_up()
    key, token = await _restricted(api, account, allowedCidrs=[OFFICE])
    # when / then
    data = await api.query(VERIFY, {"token": token, "clientIp": "203.0.113.4"}, account.session)
    assert data["verifyApiKey"] == {
        "valid": True,
        "code": "VALID",
        "reason": None,
        "keyId": key["id"],
    }
    data = await api.query(VERIFY, {"token": token}, account.session)
    assert data["verifyApiKey"] == {
        "valid": False,
        "code": "FORBIDDEN",
        "reason": "IP_NOT_ALLOWED",
        "keyId": None,
    }
    # and a malformed address is a BAD_USER_INPUT naming it
    error = await api.error(VERIFY, {"token": token, "clientIp": "nope"}, account.session)
    assert_code(error, "BAD_USER_INPUT")
    assert error["extensions"]["field"] == "clientIp"


async def test_a_network_restricted_bearer_key_is_refused_from_elsewhere(api: Api) -> None:
    # given a secret key limited to the office, used on keyward's own API
    account = await api.sign_up()
    _, token = await _restricted(api, account, allowedCidrs=[OFFICE])

    async def call_from(address: str) -> tuple[int, dict[str, Any]]:
        response = await api.client.post(
            "/graphql",
            json={"query": ME},
            headers={"Authorization": f"Bearer {token}", "X-Forwarded-For": address},
        )
        return response.status, await response.json()

    # when / then: from the office it works
    status, body = await call_from("203.0.113.20")
    assert (status, body["data"]["organization"]["id"]) == (200, account.organization_id)
    # and from elsewhere it is a 401 with the reason
    assert_unauthorized(*(await call_from("198.51.100.1")), "FORBIDDEN_IP")


async def test_a_bearer_key_ignores_its_origin_list(api: Api) -> None:
    # given a public key limited to a web origin (a resource server's matter)
    account = await api.sign_up()
    _, token = await _restricted(api, account, type="PUBLIC", allowedOrigins=[APP])
    # when it reads its organization with no Origin header
    data = await api.query(ME, token=token)
    # then
    assert data["organization"]["id"] == account.organization_id
