"""The webhook endpoints' GraphQL operations, black-box: register, list, change, delete, rotate,
send a test event, retry a delivery; bad input, the limit of 10, another organization's
endpoint, and who may do it. Also which lifecycle changes become events, with what data."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from models.webhook_entities import WebhookDelivery
from settings import Settings
from tests.harness import FAST_PASSWORDS, Api, Clock
from tests.team_support import change_role, join
from tests.webhook_support import (
    CREATE_WEBHOOK_ENDPOINT,
    deliver,
    endpoint_create,
    endpoints,
    receiver,
)

URL = "https://93.184.215.14/hooks"
UPDATE = """
mutation Update($input: UpdateWebhookEndpointInput!) {
  updateWebhookEndpoint(input: $input) {
    __typename
    ... on WebhookEndpointUpdated { endpoint { id url events enabled disabledReason } }
    ... on InvalidInput { field message }
  }
}
"""
DELETE = """
mutation Delete($input: DeleteWebhookEndpointInput!) {
  deleteWebhookEndpoint(input: $input) {
    __typename ... on WebhookEndpointDeleted { deletedWebhookEndpointId }
  }
}
"""
SEND_TEST = """
mutation Test($input: SendTestWebhookInput!) {
  sendTestWebhook(input: $input) {
    __typename ... on TestWebhookSent { delivery { id eventType status attempts nextAttemptAt } }
  }
}
"""
RETRY = """
mutation Retry($input: RetryWebhookDeliveryInput!) {
  retryWebhookDelivery(input: $input) {
    __typename ... on WebhookDeliveryRetried { delivery { id status nextAttemptAt } }
  }
}
"""
PAGE = """
query Page($id: ID, $after: String) {
  organization(id: $id) {
    webhookEndpoints {
      deliveries(first: 2, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } edges { node { eventType } }
      }
    }
  }
}
"""


@pytest.fixture
def settings(database_url: str) -> Iterator[Settings]:
    yield Settings(
        database_url=database_url,
        webhook_allow_http=True,
        webhook_allow_private_networks=True,
        **FAST_PASSWORDS,  # type: ignore[arg-type]
    )


@pytest.fixture
def clock() -> Clock:
    return Clock(now=datetime.now(UTC).replace(microsecond=0))


async def test_register_list_change_and_delete(api: Api) -> None:
    # given an owner
    owner = await api.sign_up()
    # when they register an endpoint
    created = await endpoint_create(api, owner, URL, ["api_key.created", "api_key.created"])
    # then it is listed, enabled, with its events (once each); the secret is not listed
    assert created["__typename"] == "WebhookEndpointCreated"
    [listed] = await endpoints(api, owner)
    assert listed["url"] == URL and listed["events"] == ["api_key.created"]
    assert listed["enabled"] is True and listed["disabledReason"] is None
    assert created["secret"] not in str(listed)
    # when they change its events and disable it
    id = created["endpoint"]["id"]
    input = {"id": id, "events": ["*"], "enabled": False}
    changed = (await api.query(UPDATE, {"input": input}, token=owner.session))[
        "updateWebhookEndpoint"
    ]
    # then it is changed
    assert changed["__typename"] == "WebhookEndpointUpdated"
    assert changed["endpoint"]["events"] == ["*"] and changed["endpoint"]["enabled"] is False
    assert changed["endpoint"]["disabledReason"]
    # when they delete it
    deleted = await api.query(DELETE, {"input": {"id": id}}, token=owner.session)
    # then it is gone
    assert deleted["deleteWebhookEndpoint"]["deletedWebhookEndpointId"] == id
    assert await endpoints(api, owner) == []


@pytest.mark.parametrize(
    ("events", "message"),
    [([], "at least one"), (["api_key.exploded"], "Unknown event")],
)
async def test_bad_events_are_refused(api: Api, events: list[str], message: str) -> None:
    owner = await api.sign_up()
    input = {"organizationId": owner.organization_id, "url": URL, "events": events}
    data = await api.query(CREATE_WEBHOOK_ENDPOINT, {"input": input}, token=owner.session)
    result = data["createWebhookEndpoint"]
    assert result["__typename"] == "InvalidInput"
    assert result["field"] == "events" and message in result["message"]


async def test_bad_url_and_events_are_reported_together(api: Api) -> None:
    owner = await api.sign_up()
    input = {"organizationId": owner.organization_id, "url": "ftp://x", "events": ["nope"]}
    document = CREATE_WEBHOOK_ENDPOINT.replace("field message", "field message problems { field }")
    data = await api.query(document, {"input": input}, token=owner.session)
    problems = data["createWebhookEndpoint"]["problems"]
    assert [p["field"] for p in problems] == ["url", "events"]


async def test_at_most_ten_endpoints(api: Api) -> None:
    owner = await api.sign_up()
    for _ in range(10):
        assert (await endpoint_create(api, owner, URL))["__typename"] == "WebhookEndpointCreated"
    eleventh = await endpoint_create(api, owner, URL)
    assert eleventh["__typename"] == "TooManyWebhookEndpoints"
    assert len(await endpoints(api, owner)) == 10


async def test_another_organizations_endpoint_is_not_found(api: Api) -> None:
    # given two owners, one with an endpoint
    owner, stranger = await api.sign_up(), await api.sign_up()
    created = await endpoint_create(api, owner, URL)
    id = created["endpoint"]["id"]
    # when the other tries to change, delete or test it (or names an endpoint that never was)
    for target in (id, str(uuid.uuid4()), "not-an-id"):
        for document, name in ((DELETE, "deleteWebhookEndpoint"), (SEND_TEST, "sendTestWebhook")):
            data = await api.query(document, {"input": {"id": target}}, token=stranger.session)
            # then it is not found, and the owner's endpoint is untouched
            assert data[name]["__typename"] == "WebhookEndpointNotFound"
    assert len(await endpoints(api, owner)) == 1


async def test_members_and_keys_may_not_manage_webhooks(api: Api) -> None:
    owner = await api.sign_up()
    member = await join(api, owner)
    _, secret = await api.create_key(owner)
    for token in (member.session, secret):
        error = await api.error(
            "query Q($id: ID) { organization(id: $id) { webhookEndpoints { id } } }",
            {"id": owner.organization_id},
            token=token,
        )
        assert error["extensions"]["code"] == "FORBIDDEN"
    status, body = await api.raw(
        "query Q($id: ID) { organization(id: $id) { webhookEndpoints { id } } }",
        {"id": owner.organization_id},
    )
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_test_event_is_delivered_and_a_delivery_can_be_retried(
    api: Api, settings: Settings, clock: Clock, db: None
) -> None:
    async with receiver() as hooks:
        # given an endpoint that only hears member events
        owner = await api.sign_up()
        created = await endpoint_create(api, owner, hooks.url, ["member.joined"])
        id = created["endpoint"]["id"]
        # when a test event is sent
        sent = await api.query(SEND_TEST, {"input": {"id": id}}, token=owner.session)
        delivery = sent["sendTestWebhook"]["delivery"]
        assert (delivery["eventType"], delivery["status"]) == ("webhook.test", "PENDING")
        await deliver(settings, clock())
        # then it arrives, signed, whatever the endpoint subscribes to
        [payload] = hooks.verified(created["secret"])
        assert payload["type"] == "webhook.test"
        assert payload["data"]["endpointId"] == id
        # when the delivery is retried
        retried = await api.query(RETRY, {"input": {"id": delivery["id"]}}, token=owner.session)
        assert retried["retryWebhookDelivery"]["delivery"]["status"] == "PENDING"
        await deliver(settings, clock())
        # then it is sent again under the same webhook-id
        assert len(hooks.verified(created["secret"])) == 2
        assert len({r.headers["webhook-id"] for r in hooks.received}) == 1


async def test_deliveries_page(api: Api, settings: Settings, db: None) -> None:
    owner = await api.sign_up()
    await endpoint_create(api, owner, URL)
    for n in range(3):
        await api.create_key(owner, name=f"k{n}")
    variables: dict[str, object] = {"id": owner.organization_id}
    first = await api.query(PAGE, variables, token=owner.session)
    page = first["organization"]["webhookEndpoints"][0]["deliveries"]
    assert page["totalCount"] == 3 and len(page["edges"]) == 2
    assert page["pageInfo"]["hasNextPage"] is True
    variables["after"] = page["pageInfo"]["endCursor"]
    second = await api.query(PAGE, variables, token=owner.session)
    rest = second["organization"]["webhookEndpoints"][0]["deliveries"]
    assert len(rest["edges"]) == 1 and rest["pageInfo"]["hasNextPage"] is False
    error = await api.error(
        PAGE, {"id": owner.organization_id, "after": "junk"}, token=owner.session
    )
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


async def test_member_changes_are_events(
    api: Api, settings: Settings, clock: Clock, db: None
) -> None:
    async with receiver() as hooks:
        owner = await api.sign_up()
        created = await endpoint_create(
            api, owner, hooks.url, ["member.joined", "member.role_changed"]
        )
        member = await join(api, owner)
        await change_role(api, owner, member, "ADMIN")
        # (a role change is stamped with the real time, not the test's clock)
        await deliver(settings, clock.advance(seconds=30))
        payloads = sorted(hooks.verified(created["secret"]), key=lambda p: str(p["type"]))
        assert [p["type"] for p in payloads] == ["member.joined", "member.role_changed"]
        joined, changed = (p["data"] for p in payloads)
        assert joined["member"] == {
            "userId": member.user_id,
            "email": member.email,
            "role": "MEMBER",
        }
        assert changed["member"]["role"] == "ADMIN" and changed["previousRole"] == "MEMBER"
        assert all(p["data"]["organizationId"] == owner.organization_id for p in payloads)


async def test_a_disabled_endpoint_gets_no_new_events(api: Api, db: None) -> None:
    owner = await api.sign_up()
    created = await endpoint_create(api, owner, URL)
    input = {"id": created["endpoint"]["id"], "enabled": False}
    await api.query(UPDATE, {"input": input}, token=owner.session)
    await api.create_key(owner)
    assert await WebhookDelivery.all().count() == 0
