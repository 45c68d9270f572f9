"""The SSRF guard: a webhook never reaches loopback, private, link-local or metadata addresses,
whether the URL names them, a name resolves to them (checked when the endpoint is made and again
when each attempt connects), or the receiver redirects to them (redirects are never followed)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from models.access import Permission, UserPrincipal, organization_access
from models.policies import WebhookPolicy
from models.webhooks import webhook_endpoint_create
from settings import Settings
from tests.harness import FAST_PASSWORDS, Account, Api, Clock
from tests.webhook_support import deliver, endpoint_create, endpoints, receiver

REFUSED = [
    "https://127.0.0.1/hooks",
    "https://10.0.0.1/hooks",
    "https://169.254.169.254/latest/meta-data",
    "https://[::1]/hooks",
    "https://localhost/hooks",
    "https://0.0.0.0/hooks",
    "https://[::ffff:127.0.0.1]/hooks",
]
PERMISSIVE = WebhookPolicy(allow_http=True, allow_private_networks=True)


@pytest.fixture
def settings(database_url: str) -> Iterator[Settings]:
    """The defaults: https only, public addresses only."""
    yield Settings(database_url=database_url, **FAST_PASSWORDS)  # type: ignore[arg-type]


@pytest.fixture
def clock() -> Clock:
    return Clock(now=datetime.now(UTC).replace(microsecond=0))


@pytest.mark.parametrize("url", REFUSED)
async def test_an_internal_address_is_refused_at_creation(api: Api, url: str) -> None:
    # given an owner
    owner = await api.sign_up()
    # when they register a URL that is, or resolves to, an internal address
    result = await endpoint_create(api, owner, url)
    # then it is refused on `url`, saying why
    assert result["__typename"] == "InvalidInput", result
    assert result["field"] == "url"
    assert "WEBHOOK_ALLOW_PRIVATE_NETWORKS" in result["message"]
    assert await endpoints(api, owner) == []


@pytest.mark.parametrize(
    "url",
    [
        "http://93.184.215.14/hooks",
        "ftp://93.184.215.14/hooks",
        "https://user:pass@93.184.215.14/hooks",
        "not a url",
        "https:///nohost",
        "https://" + "a" * 2_000 + ".example/",
        "https://" + "a" * 64 + ".example/",
        "https://a\u0000b.example/",
        "https://[::1/",
        "https://example.invalid/",
    ],
)
async def test_a_bad_url_is_refused_at_creation(api: Api, url: str) -> None:
    owner = await api.sign_up()
    result = await endpoint_create(api, owner, url)
    assert result["__typename"] == "InvalidInput", result
    assert result["field"] == "url"


async def test_a_public_https_url_is_accepted(api: Api) -> None:
    owner = await api.sign_up()
    result = await endpoint_create(api, owner, "https://93.184.215.14/hooks")
    assert result["__typename"] == "WebhookEndpointCreated", result
    assert result["endpoint"]["url"] == "https://93.184.215.14/hooks"


async def _registered_while_allowed(owner: Account, url: str, clock: Clock) -> None:
    """An endpoint registered while the guard allowed it (the name resolved elsewhere then, or
    the operator allowed private networks then)."""
    principal = UserPrincipal(user_id=uuid.UUID(owner.user_id), session_id=uuid.uuid4())
    access = await organization_access(
        principal, uuid.UUID(owner.organization_id), Permission.MANAGE_WEBHOOKS
    )
    assert access is not None
    await webhook_endpoint_create(
        access=access, url=url, events=["*"], now=clock(), policy=PERMISSIVE
    )


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
async def test_an_internal_address_is_refused_when_the_attempt_connects(
    api: Api, settings: Settings, clock: Clock, db: None, host: str
) -> None:
    async with receiver() as hooks:
        # given an endpoint on loopback, registered while that was allowed
        owner = await api.sign_up()
        await _registered_while_allowed(owner, f"http://{host}:{hooks.port}/hooks", clock)
        await api.create_key(owner)
        # when the job runs with the guard on (http allowed, private networks not)
        counts = await deliver(replace(settings, webhook_allow_http=True), clock())
        # then nothing reached the receiver and the delivery says why
        assert counts == {"delivered": 0, "retried": 1, "failed": 0}
        assert hooks.received == []
        [endpoint] = await endpoints(api, owner)
        [delivery] = [e["node"] for e in endpoint["deliveries"]["edges"]]
        assert delivery["lastError"].startswith("refused by the SSRF guard")
        assert "loopback" in delivery["lastError"]
        assert delivery["lastResponseStatus"] is None


async def test_a_redirect_is_not_followed(
    api: Api, settings: Settings, clock: Clock, db: None
) -> None:
    async with receiver() as hooks, receiver() as inside:
        # given an endpoint that redirects to an internal address
        owner = await api.sign_up()
        await _registered_while_allowed(owner, hooks.url, clock)
        hooks.answers = [(302, {"Location": inside.url})]
        await api.create_key(owner)
        # when the job runs (private networks allowed, so only the redirect rule is at work)
        allowed = replace(settings, webhook_allow_http=True, webhook_allow_private_networks=True)
        counts = await deliver(allowed, clock())
        # then the redirect's target heard nothing, and the attempt failed
        assert counts == {"delivered": 0, "retried": 1, "failed": 0}
        assert len(hooks.received) == 1 and inside.received == []
        [endpoint] = await endpoints(api, owner)
        [delivery] = [e["node"] for e in endpoint["deliveries"]["edges"]]
        assert delivery["lastResponseStatus"] == 302
        assert "redirects are not followed" in delivery["lastError"]
