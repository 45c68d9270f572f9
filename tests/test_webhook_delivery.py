"""Webhooks delivered as Standard Webhooks says, to a real receiver (aiohttp on a free port),
every delivery verified by the reference implementation (`standardwebhooks`): the signature, the
retries under one `webhook-id`, 410, timeouts, Retry-After, two workers, a rolled-back change,
a rotation, and giving up. Time is the job's `now`, moved by hand (never slept through); it
starts at the real time because the verifier checks the timestamp against its own clock."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from tortoise.transactions import in_transaction

from models.api_keys import api_key_create
from models.entities import ApiKeyType, OutboxMessage
from models.events import event_body, event_emit
from models.housekeeping import api_keys_expire_rolled
from models.policies import KeyPolicy
from models.webhook_delivery import (
    CLAIM_SECONDS,
    webhook_deliveries_claim,
    webhook_deliveries_purge,
)
from models.webhook_entities import WebhookDelivery, WebhookDeliveryStatus, WebhookEndpoint
from settings import Settings
from tests.harness import FAST_PASSWORDS, Api, Clock, key_manager
from tests.support import DELETE_API_KEY, ROLL_API_KEY
from tests.team_support import SmtpServer, free_port
from tests.webhook_support import (
    ROTATE_WEBHOOK_SECRET,
    deliver,
    endpoint_create,
    endpoints,
    receiver,
)


@pytest.fixture
def settings(database_url: str) -> Iterator[Settings]:
    """Webhooks to the receiver on loopback (http, private networks allowed), three quick
    retries, a short timeout; mail on (never sent: the owners' mail is read from the outbox)."""
    yield Settings(
        database_url=database_url,
        webhook_allow_http=True,
        webhook_allow_private_networks=True,
        webhook_retry_schedule=(5, 5, 5),
        webhook_timeout_seconds=0.5,
        smtp_url=SmtpServer(free_port()).url,
        **FAST_PASSWORDS,  # type: ignore[arg-type]
    )


@pytest.fixture
def clock() -> Clock:
    return Clock(now=datetime.now(UTC).replace(microsecond=0))


async def test_a_created_key_is_delivered_signed(
    api: Api, settings: Settings, clock: Clock, db: None
) -> None:
    async with receiver() as hooks:
        # given an endpoint for key events
        owner = await api.sign_up()
        created = await endpoint_create(api, owner, hooks.url, ["api_key.created"])
        assert created["__typename"] == "WebhookEndpointCreated", created
        assert created["secret"].startswith("whsec_")
        # when a key is created and the job runs
        key, token = await api.create_key(owner, name="billing")
        counts = await deliver(settings, clock())
        # then one signed delivery arrived, verified by standardwebhooks, without the token
        assert counts == {"delivered": 1, "retried": 0, "failed": 0}
        [payload] = hooks.verified(created["secret"])
        assert payload["type"] == "api_key.created"
        assert payload["data"] == {
            "organizationId": owner.organization_id,
            "key": {
                "id": key["id"],
                "name": "billing",
                "type": "SECRET",
                "start": key["start"],
                "expiresAt": None,
            },
        }
        assert token not in hooks.received[0].body
        assert hooks.received[0].headers["webhook-id"].startswith("msg_")
        assert hooks.received[0].headers["webhook-timestamp"] == str(int(clock().timestamp()))
        # and a second run sends nothing more
        assert await deliver(settings, clock()) == {"delivered": 0, "retried": 0, "failed": 0}


async def test_500_then_200_is_delivered_on_the_second_attempt_under_one_id(
    api: Api, settings: Settings, clock: Clock, db: None
) -> None:
    async with receiver() as hooks:
        # given an endpoint that fails once
        owner = await api.sign_up()
        created = await endpoint_create(api, owner, hooks.url)
        hooks.answers = [(500, {})]
        await api.create_key(owner)
        # when the job runs, and again once the 5 s retry is due
        first = await deliver(settings, clock())
        early = await deliver(settings, clock.advance(seconds=4))
        second = await deliver(settings, clock.advance(seconds=1))
        # then it was delivered on the second attempt, with the same webhook-id
        assert first == {"delivered": 0, "retried": 1, "failed": 0}
        assert early == {"delivered": 0, "retried": 0, "failed": 0}
        assert second == {"delivered": 1, "retried": 0, "failed": 0}
        assert len(hooks.verified(created["secret"])) == 2
        ids = {r.headers["webhook-id"] for r in hooks.received}
        assert len(ids) == 1
        [endpoint] = await endpoints(api, owner)
        [delivery] = [e["node"] for e in endpoint["deliveries"]["edges"]]
        assert delivery["eventId"] in ids
        assert (delivery["status"], delivery["attempts"]) == ("SUCCEEDED", 2)
        assert (delivery["lastResponseStatus"], delivery["lastError"]) == (200, None)


async def test_410_disables_the_endpoint(
    api: Api, settings: Settings, clock: Clock, db: None
) -> None:
    async with receiver() as hooks:
        owner = await api.sign_up()
        await endpoint_create(api, owner, hooks.url)
        hooks.answers = [(410, {})]
        await api.create_key(owner, name="one")
        # when the endpoint answers 410 Gone
        counts = await deliver(settings, clock())
        # then the delivery failed, the endpoint is disabled, and nothing more goes to it
        assert counts == {"delivered": 0, "retried": 0, "failed": 1}
        [endpoint] = await endpoints(api, owner)
        assert endpoint["enabled"] is False
        assert "410" in endpoint["disabledReason"]
        await api.create_key(owner, name="two")
        assert await deliver(settings, clock.advance(minutes=1)) == {
            "delivered": 0,
            "retried": 0,
            "failed": 0,
        }
        assert len(hooks.received) == 1


async def test_a_slow_receiver_times_out_and_is_retried(
    api: Api, settings: Settings, clock: Clock, db: None
) -> None:
    async with receiver() as hooks:
        owner = await api.sign_up()
        created = await endpoint_create(api, owner, hooks.url)
        await api.create_key(owner)
        # when the receiver takes longer than the timeout
        hooks.delay = 2.0
        counts = await deliver(settings, clock())
        # then the attempt failed with a timeout and is due again after the schedule's delay
        assert counts == {"delivered": 0, "retried": 1, "failed": 0}
        [endpoint] = await endpoints(api, owner)
        [delivery] = [e["node"] for e in endpoint["deliveries"]["edges"]]
        assert delivery["status"] == "PENDING"
        assert "timed out" in delivery["lastError"]
        assert delivery["lastResponseStatus"] is None
        due = datetime.fromisoformat(delivery["nextAttemptAt"])
        assert due == clock() + timedelta(seconds=5)
        # and once the receiver is quick again, the retry arrives
        hooks.delay = 0
        assert (await deliver(settings, clock.advance(seconds=5)))["delivered"] == 1
        assert len(hooks.verified(created["secret"])) == 2


async def test_retry_after_is_honoured(
    api: Api, settings: Settings, clock: Clock, db: None
) -> None:
    async with receiver() as hooks:
        owner = await api.sign_up()
        await endpoint_create(api, owner, hooks.url)
        await api.create_key(owner)
        hooks.answers = [(503, {"Retry-After": "120"})]
        # when the endpoint answers 503 with Retry-After: 120
        await deliver(settings, clock())
        # then nothing is sent before 120 s have passed (the schedule says 5 s)
        assert (await deliver(settings, clock.advance(seconds=119)))["delivered"] == 0
        assert (await deliver(settings, clock.advance(seconds=1)))["delivered"] == 1


async def test_two_workers_make_each_attempt_once(
    api: Api, settings: Settings, clock: Clock, db: None
) -> None:
    async with receiver() as first_hooks, receiver() as second_hooks:
        # given two endpoints and ten events for each
        owner = await api.sign_up()
        await endpoint_create(api, owner, first_hooks.url)
        await endpoint_create(api, owner, second_hooks.url)
        first_hooks.delay = second_hooks.delay = 0.01
        for n in range(10):
            await api.create_key(owner, name=f"k{n}")
        # when two workers run at the same instant
        runs = await asyncio.gather(deliver(settings, clock()), deliver(settings, clock()))
        # then every event reached each endpoint exactly once
        assert sum(run["delivered"] for run in runs) == 20
        for hooks in (first_hooks, second_hooks):
            ids = [r.headers["webhook-id"] for r in hooks.received]
            assert len(ids) == len(set(ids)) == 10


async def test_a_rolled_back_change_sends_nothing(
    api: Api, settings: Settings, clock: Clock, db: None
) -> None:
    async with receiver() as hooks:
        owner = await api.sign_up()
        await endpoint_create(api, owner, hooks.url)
        access = await key_manager(uuid.UUID(owner.organization_id))
        # when a key is created inside a transaction that then rolls back
        with pytest.raises(RuntimeError):
            async with in_transaction():
                await api_key_create(
                    access=access,
                    name="never",
                    type=ApiKeyType.SECRET,
                    expires_at=None,
                    now=clock(),
                    policy=KeyPolicy(),
                )
                assert await WebhookDelivery.all().count() == 1  # written with the change
                raise RuntimeError("the change fails after its event was queued")
        # then no delivery is left and nothing is sent
        assert await WebhookDelivery.all().count() == 0
        await deliver(settings, clock())
        assert hooks.received == []


async def test_during_a_rotation_both_secrets_sign(
    api: Api, settings: Settings, clock: Clock, db: None
) -> None:
    async with receiver() as hooks:
        owner = await api.sign_up()
        created = await endpoint_create(api, owner, hooks.url)
        old_secret = created["secret"]
        rotated = await api.query(
            ROTATE_WEBHOOK_SECRET,
            {"input": {"id": created["endpoint"]["id"]}},
            token=owner.session,
        )
        new_secret = rotated["rotateWebhookSecret"]["secret"]
        assert new_secret.startswith("whsec_") and new_secret != old_secret
        # when an event is delivered inside the 24 hours
        await api.create_key(owner)
        await deliver(settings, clock())
        # then it carries two signatures, and each secret verifies it
        assert len(hooks.received[0].headers["webhook-signature"].split(" ")) == 2
        assert hooks.verified(old_secret) == hooks.verified(new_secret)
        # and after 24 hours only the new secret signs
        endpoint = await WebhookEndpoint.get(id=created["endpoint"]["id"])
        assert endpoint.signing_secrets(clock() + timedelta(hours=24)) == [new_secret]


async def test_after_the_last_retry_the_delivery_fails_and_owners_are_mailed(
    api: Api, settings: Settings, clock: Clock, db: None
) -> None:
    async with receiver() as hooks:
        owner = await api.sign_up()
        await endpoint_create(api, owner, hooks.url)
        await api.create_key(owner)
        hooks.answers = [(500, {})] * 4
        # when the first attempt and the three retries all fail
        outcomes = [await deliver(settings, clock())]
        for _ in range(3):
            outcomes.append(await deliver(settings, clock.advance(seconds=5)))
        # then the delivery is FAILED after four attempts and the owner has a mail queued
        assert [o["failed"] for o in outcomes] == [0, 0, 0, 1]
        delivery = await WebhookDelivery.get()
        assert (delivery.status, delivery.attempts) == (WebhookDeliveryStatus.FAILED, 4)
        [mail] = await OutboxMessage.all()
        assert mail.payload["to"] == owner.email
        assert "api_key.created" in str(mail.payload["body"])


async def test_an_endpoint_failing_for_five_days_is_disabled(
    api: Api, settings: Settings, clock: Clock, db: None
) -> None:
    async with receiver() as hooks:
        owner = await api.sign_up()
        await endpoint_create(api, owner, hooks.url)
        hooks.answers = [(500, {})] * 100
        await api.create_key(owner, name="first")
        await deliver(settings, clock())
        # when events keep failing for five days
        clock.advance(days=5)
        owner.session = await api.sign_in(owner.email)
        await api.create_key(owner, name="later")
        await deliver(settings, clock())
        # then the endpoint is disabled, saying why
        [endpoint] = await endpoints(api, owner)
        assert endpoint["enabled"] is False
        assert "5 days" in endpoint["disabledReason"]


async def test_a_roll_names_both_keys_and_the_grace_end(
    api: Api, settings: Settings, clock: Clock, db: None
) -> None:
    async with receiver() as hooks:
        owner = await api.sign_up()
        created = await endpoint_create(api, owner, hooks.url, ["api_key.rolled"])
        key, _ = await api.create_key(owner)
        rolled = await api.query(ROLL_API_KEY, {"input": {"id": key["id"]}}, token=owner.session)
        await deliver(settings, clock())
        [payload] = hooks.verified(created["secret"])
        data = payload["data"]
        assert payload["type"] == "api_key.rolled"
        assert data["oldKeyId"] == key["id"]
        assert data["newKeyId"] == rolled["rollApiKey"]["apiKey"]["id"]
        assert data["graceEndsAt"] == rolled["rollApiKey"]["rolledApiKey"]["expiresAt"].replace(
            "+00:00", "Z"
        )
        assert data["key"]["id"] == key["id"]
        assert "digest" not in json.dumps(payload)


async def test_a_deleted_key_and_an_expired_rolled_key_are_events(
    api: Api, settings: Settings, clock: Clock, db: None
) -> None:
    async with receiver() as hooks:
        # given an endpoint for deletions and expiries, a key to delete and one rolled with no
        # grace
        owner = await api.sign_up()
        created = await endpoint_create(
            api, owner, hooks.url, ["api_key.deleted", "api_key.expired"]
        )
        doomed, _ = await api.create_key(owner, name="doomed", expiresAt="2099-01-01T00:00:00Z")
        rolled, _ = await api.create_key(owner, name="rolled")
        input = {"id": rolled["id"], "gracePeriodSeconds": 0}
        await api.query(ROLL_API_KEY, {"input": input}, token=owner.session)
        # when one is deleted and the expire-rolled job marks the other
        await api.query(DELETE_API_KEY, {"input": {"id": doomed["id"]}}, token=owner.session)
        assert await api_keys_expire_rolled(now=clock()) == 1
        await deliver(settings, clock())
        # then both events arrived with the keys' data
        payloads = sorted(hooks.verified(created["secret"]), key=lambda p: str(p["type"]))
        assert [p["type"] for p in payloads] == ["api_key.deleted", "api_key.expired"]
        deleted, expired = (p["data"]["key"] for p in payloads)
        assert deleted == {
            "id": doomed["id"],
            "name": "doomed",
            "type": "SECRET",
            "start": doomed["start"],
            "expiresAt": "2099-01-01T00:00:00Z",
        }
        assert (expired["id"], expired["name"]) == (rolled["id"], "rolled")
        assert expired["expiresAt"] is not None


async def test_finished_deliveries_are_purged_after_30_days(
    api: Api, settings: Settings, clock: Clock, db: None
) -> None:
    async with receiver() as hooks:
        owner = await api.sign_up()
        await endpoint_create(api, owner, hooks.url)
        await api.create_key(owner, name="delivered")
        await deliver(settings, clock())
        # (a pending one, never attempted here, waits whatever its age)
        await endpoint_create(api, owner, "http://127.0.0.1:9/never", ["api_key.created"])
        await WebhookEndpoint.filter(url=hooks.url).update(enabled=False)
        await api.create_key(owner, name="waiting")
        assert await webhook_deliveries_purge(now=clock() + timedelta(days=29)) == 0
        assert await webhook_deliveries_purge(now=clock() + timedelta(days=31)) == 1
        assert await WebhookDelivery.all().count() == 1


def test_a_body_stays_under_20_kb() -> None:
    now = datetime(2030, 1, 1, tzinfo=UTC)
    small = json.loads(event_body("api_key.created", {"organizationId": "o", "k": "v"}, now))
    assert small == {
        "type": "api_key.created",
        "timestamp": "2030-01-01T00:00:00Z",
        "data": {"organizationId": "o", "k": "v"},
    }
    huge = event_body("api_key.created", {"organizationId": "o", "k": "v" * 30_000}, now)
    assert len(huge.encode()) < 20_000
    assert json.loads(huge)["data"] == {"organizationId": "o", "truncated": True}


async def test_event_emit_queues_one_delivery_per_subscribed_endpoint(
    api: Api, settings: Settings, clock: Clock, db: None
) -> None:
    async with receiver() as hooks:
        # given endpoints for expiring keys, for everything, and for created keys only
        owner = await api.sign_up()
        expiring = await endpoint_create(api, owner, hooks.url, ["api_key.expiring"])
        await endpoint_create(api, owner, hooks.url, ["*"])
        await endpoint_create(api, owner, hooks.url, ["api_key.created"])
        organization_id = uuid.UUID(owner.organization_id)
        # when another part of keyward emits an event inside its transaction
        async with in_transaction():
            await event_emit(
                organization_id=organization_id,
                type="api_key.expiring",
                data={"key": {"id": "k"}, "threshold": "7d"},
                now=clock(),
            )
        await deliver(settings, clock())
        # then the two subscribers got it, under one webhook-id
        assert len(hooks.received) == 2
        assert len({r.headers["webhook-id"] for r in hooks.received}) == 1
        verifier = Webhook(expiring["secret"])
        payloads = []
        for received in hooks.received:
            with contextlib.suppress(WebhookVerificationError):  # the other endpoint's secret
                payloads.append(verifier.verify(received.body, received.headers))
        [payload] = payloads
        assert payload["data"] == {
            "organizationId": owner.organization_id,
            "key": {"id": "k"},
            "threshold": "7d",
        }


async def test_a_worker_killed_mid_attempt_leaves_the_delivery_to_be_retried(
    api: Api, settings: Settings, clock: Clock, db: None
) -> None:
    async with receiver() as hooks:
        owner = await api.sign_up()
        created = await endpoint_create(api, owner, hooks.url)
        await api.create_key(owner)
        # given a worker that claimed the delivery and died before recording anything
        [claimed] = await webhook_deliveries_claim(now=clock(), limit=10)
        # when other workers run while the claim holds, and after it lapses
        during = await deliver(settings, clock.advance(seconds=CLAIM_SECONDS - 1))
        after = await deliver(settings, clock.advance(seconds=1))
        # then nobody sent it meanwhile, and it went out once the claim lapsed
        assert during["delivered"] == 0 and after["delivered"] == 1
        [payload] = hooks.verified(created["secret"])
        assert hooks.received[0].headers["webhook-id"] == claimed.event_id
        assert payload["type"] == "api_key.created"
