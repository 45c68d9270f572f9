"""Expiry notices: the clock moved across the thresholds, on a real database; each threshold
fires once per key, mails go to the owners and admins who want them."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from models.database import database_entered
from models.entities import ApiKey, Membership, Organization, OutboxMessage, Role, User
from models.expiry_notices import api_keys_notify_expiring
from models.notice_entities import ExpiryNotice, NotificationSettings
from models.policies import MailPolicy
from models.webhook_entities import WebhookDelivery, WebhookEndpoint
from settings import Settings
from tests.harness import Clock
from tests.jobs_support import keys_make, organization_make, second_database

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
MAIL = MailPolicy(enabled=True, public_url="https://keys.example")


async def _member(organization: Organization, email: str, role: Role, now: datetime) -> User:
    user = await User.create(email=email, email_key=email, password_hash="-", created_at=now)
    await Membership.create(user=user, organization=organization, role=role, created_at=now)
    return user


async def _team(now: datetime) -> Organization:
    """An organization with an owner and an admin who get notices, an admin who turned them
    off, and a member (who never gets them)."""
    organization = await organization_make(now=now)
    await _member(organization, "owner@example.com", Role.OWNER, now)
    await _member(organization, "admin@example.com", Role.ADMIN, now)
    quiet = await _member(organization, "quiet@example.com", Role.ADMIN, now)
    await NotificationSettings.create(user=quiet, expiry_notices=False, updated_at=now)
    await _member(organization, "member@example.com", Role.MEMBER, now)
    return organization


async def _notices() -> list[tuple[str, str]]:
    rows = await ExpiryNotice.all().order_by("id").values_list("key_id", "threshold")
    return [(str(key_id), str(threshold)) for key_id, threshold in rows]


async def _mails() -> list[dict[str, Any]]:
    return [row.payload for row in await OutboxMessage.all().order_by("id")]


async def test_each_threshold_fires_once_as_the_clock_moves(db: None, clock: Clock) -> None:
    # given a key that stops working in 40 days
    start = clock.now
    organization = await _team(start)
    (key,) = await keys_make(organization, 1, created_at=start, expires_at=start + 40 * DAY)
    expires = start + 40 * DAY
    # when the job runs at many moments, twice at each
    sent = []
    for moment in (
        start,
        expires - 30 * DAY - HOUR,
        expires - 30 * DAY,
        expires - 29 * DAY,
        expires - 7 * DAY - HOUR,
        expires - 7 * DAY,
        expires - 3 * DAY,
        expires - DAY,
        expires - HOUR,
        expires,
        expires + DAY,
    ):
        sent.append(await api_keys_notify_expiring(now=moment, mail=MAIL))
        sent.append(await api_keys_notify_expiring(now=moment, mail=MAIL))
    # then 30d, 7d and 1d came once each, exactly when due
    assert sent == [0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]
    assert await _notices() == [(str(key.id), "30d"), (str(key.id), "7d"), (str(key.id), "1d")]
    # and each went by mail to the owner and the admin who wants it, not the others
    mails = await _mails()
    assert Counter(mail["to"] for mail in mails) == {
        "admin@example.com": 3,
        "owner@example.com": 3,
    }


async def test_a_key_created_inside_seven_days_gets_one_notice(db: None, clock: Clock) -> None:
    # given a key made 5 days before it stops working, past the 30d and 7d thresholds
    now = clock.now
    organization = await _team(now)
    (key,) = await keys_make(organization, 1, created_at=now, expires_at=now + 5 * DAY)
    # when the job runs, and runs again
    assert await api_keys_notify_expiring(now=now, mail=MAIL) == 1
    assert await api_keys_notify_expiring(now=now + HOUR, mail=MAIL) == 0
    # then one notice, for the nearest threshold: 7d, never 30d later
    assert await _notices() == [(str(key.id), "7d")]
    assert len(await _mails()) == 2
    # and the 1d notice still comes when due
    assert await api_keys_notify_expiring(now=now + 4 * DAY, mail=MAIL) == 1
    assert await _notices() == [(str(key.id), "7d"), (str(key.id), "1d")]


async def test_a_rolled_key_is_noticed_an_hour_before_its_grace_ends(
    db: None, clock: Clock
) -> None:
    # given a key rolled with 12 hours of grace, and keys without any expiry
    now = clock.now
    organization = await _team(now)
    (rolled,) = await keys_make(
        organization, 1, created_at=now - DAY, expires_at=now + 12 * HOUR, rolled_at=now
    )
    await keys_make(organization, 3, created_at=now - DAY, expires_at=None)
    # when the job runs during the grace
    assert await api_keys_notify_expiring(now=now, mail=MAIL) == 0
    assert await api_keys_notify_expiring(now=now + 10 * HOUR, mail=MAIL) == 0
    assert await api_keys_notify_expiring(now=now + 11 * HOUR, mail=MAIL) == 1
    assert await api_keys_notify_expiring(now=now + 11.5 * HOUR, mail=MAIL) == 0
    # then one notice, 1h, and the mail says the replacement already works
    assert await _notices() == [(str(rolled.id), "1h")]
    mails = await _mails()
    assert len(mails) == 2
    assert "replacement already works" in mails[0]["body"]


async def test_the_mail_names_the_key_links_to_it_and_keeps_headers_safe(
    db: None, clock: Clock
) -> None:
    # given a key whose name holds a line break
    now = clock.now
    organization = await _team(now)
    (key,) = await keys_make(organization, 1, created_at=now, expires_at=now + 2 * HOUR)
    await ApiKey.filter(id=key.id).update(name="billing\nBcc: victim@example.com")
    # when the job runs
    await api_keys_notify_expiring(now=now, mail=MAIL)
    # then the subject is one line, and the body names the key, its start, when and where
    mail = (await _mails())[0]
    assert "\n" not in mail["subject"]
    assert mail["subject"] == (
        f"API key billing Bcc: victim@example.com of Acme stops working on "
        f"{key.expires_at:%Y-%m-%d %H:%M} UTC"
    )
    assert "sk_test" in mail["body"]
    assert f"https://keys.example/orgs/{organization.id}/keys/{key.id}" in mail["body"]
    assert "https://keys.example/account" in mail["body"]
    assert key.digest not in mail["body"]


async def test_without_mail_the_notice_is_recorded_and_nothing_is_queued(
    db: None, clock: Clock
) -> None:
    now = clock.now
    organization = await _team(now)
    await keys_make(organization, 2, created_at=now, expires_at=now + 20 * DAY)
    # when mail is off
    assert await api_keys_notify_expiring(now=now, mail=MailPolicy()) == 2
    # then the thresholds are spent, and no mail waits
    assert [threshold for _, threshold in await _notices()] == ["30d", "30d"]
    assert await _mails() == []


async def test_notices_in_small_batches_reach_every_key_once(db: None, clock: Clock) -> None:
    now = clock.now
    organization = await _team(now)
    await keys_make(organization, 7, created_at=now, expires_at=now + 20 * DAY)
    await keys_make(organization, 5, created_at=now, expires_at=now + 3 * DAY)
    assert await api_keys_notify_expiring(now=now, mail=MAIL, batch_size=2) == 12
    assert Counter(threshold for _, threshold in await _notices()) == {"30d": 7, "7d": 5}
    assert len(await _mails()) == 24


async def test_two_workers_racing_send_each_notice_once(
    db: None, clock: Clock, settings: Settings, aiohttp_client: Any
) -> None:
    # given 60 keys due for a notice
    now = clock.now
    organization = await _team(now)
    await keys_make(organization, 60, created_at=now, expires_at=now + 20 * DAY)
    databases = [await second_database(settings, aiohttp_client) for _ in range(2)]

    async def worker(index: int) -> int:
        with database_entered(databases[index]):
            return await api_keys_notify_expiring(now=now, mail=MAIL, batch_size=7)

    # when two workers run the job at once, on their own connections
    first, second = await asyncio.gather(worker(0), worker(1))
    # then each key got one notice and one mail per recipient between them
    assert first + second == 60
    assert len(await _notices()) == 60
    assert len(await _mails()) == 120


async def test_old_notice_rows_are_dropped(db: None, clock: Clock) -> None:
    # given a key noticed at 30d, which then stopped working long ago
    now = clock.now
    organization = await _team(now)
    await keys_make(organization, 1, created_at=now, expires_at=now + 20 * DAY)
    await api_keys_notify_expiring(now=now, mail=MailPolicy())
    assert len(await _notices()) == 1
    # when the job runs 32 days later
    await api_keys_notify_expiring(now=now + 32 * DAY, mail=MailPolicy())
    # then its row is gone
    assert await _notices() == []


async def test_each_notice_is_one_webhook_event(db: None, clock: Clock) -> None:
    # given an endpoint that receives api_key.expiring, and a key 3 days from its end
    now = clock.now
    organization = await _team(now)
    await WebhookEndpoint.create(
        organization_id=organization.id,
        url="https://hooks.example/keyward",
        events=["api_key.expiring"],
        secret="whsec_" + "A" * 32,
        created_at=now,
    )
    (key,) = await keys_make(organization, 1, created_at=now, expires_at=now + 3 * DAY)
    # when the job runs, twice, then again past the 1d threshold
    await api_keys_notify_expiring(now=now, mail=MAIL)
    await api_keys_notify_expiring(now=now, mail=MAIL)
    await api_keys_notify_expiring(now=now + 2.5 * DAY, mail=MAIL)
    # then two events went out, 7d then 1d, naming the key but never its digest
    deliveries = await WebhookDelivery.all().order_by("created_at")
    assert [d.event_type for d in deliveries] == ["api_key.expiring", "api_key.expiring"]
    bodies = [json.loads(d.body) for d in deliveries]
    assert [body["data"]["threshold"] for body in bodies] == ["7d", "1d"]
    assert bodies[0]["data"]["organizationId"] == str(organization.id)
    assert bodies[0]["data"]["key"] == {
        "id": str(key.id),
        "name": "key",
        "type": "SECRET",
        "start": "sk_test",
        "expiresAt": (now + 3 * DAY).isoformat().replace("+00:00", "Z"),
    }
    assert all(key.digest not in d.body for d in deliveries)
