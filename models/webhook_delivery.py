"""Delivering the webhook outbox: claim due deliveries, sign them, record each attempt's outcome.

The HTTP itself is `jobs.webhook_delivery`'s; this module decides everything else. A delivery
is claimed by a conditional UPDATE that moves its `next_attempt_at` past the attempt's timeout
(`CLAIM_SECONDS`): of two workers that read the same due row, exactly one moves it, so an attempt
is made once; a worker that dies mid-attempt leaves the row to come due again (at-least-once,
so receivers dedupe on `webhook-id`).

After a failed attempt the next one waits for the retry schedule (`WebhookPolicy`: 5 s, 5 min,
30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h, or WEBHOOK_RETRY_SCHEDULE), or longer when the
endpoint asked so with `Retry-After` (on 429, 502, 503, 504); after the last the delivery is
FAILED and the organization's OWNERs are mailed. `410 Gone` disables the endpoint at once; an
endpoint that has failed every attempt for five days is disabled too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.transactions import in_transaction

from models.entities import Membership, Role
from models.mail import MAIL_KIND, Mail
from models.outbox import outbox_add
from models.policies import WebhookPolicy
from models.webhook_entities import WebhookDelivery, WebhookDeliveryStatus, WebhookEndpoint

# A claimed delivery is left alone this long: longer than an attempt may take (its timeout is
# 15 s), so no second worker sends it while the first still waits for an answer.
CLAIM_SECONDS = 60
# Deliveries to one endpoint claimed in one batch: they are sent one after another, so this
# many timeouts (3 x 15 s) must end well inside CLAIM_SECONDS.
MAX_PER_ENDPOINT_PER_BATCH = 3
DISABLE_AFTER = timedelta(days=5)
MAX_ERROR_LENGTH = 300
# Statuses whose Retry-After header is honoured.
RETRY_AFTER_STATUSES = frozenset({429, 502, 503, 504})
# The longest a Retry-After may push an attempt back: the schedule's own longest step.
MAX_RETRY_AFTER_SECONDS = 86_400


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    id: uuid.UUID
    endpoint_id: uuid.UUID
    organization_id: uuid.UUID
    event_id: str
    event_type: str
    body: str
    attempts: int  # attempts made before this one
    url: str
    secrets: tuple[str, ...]
    claimed_until: datetime


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one attempt came to: the status the endpoint answered (None when it did not), an
    error in words (None on success), and a Retry-After in seconds when one was sent."""

    status: int | None
    error: str | None
    retry_after_seconds: float | None = None

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300 and self.error is None


def webhook_signature(secrets: tuple[str, ...], event_id: str, timestamp: int, body: str) -> str:
    """The `webhook-signature` header: `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`
    for each secret (the base64 after `whsec_`), space-separated."""
    signed = f"{event_id}.{timestamp}.{body}".encode()
    parts = []
    for secret in secrets:
        key = base64.b64decode(secret.removeprefix("whsec_"))
        digest = hmac.new(key, signed, hashlib.sha256).digest()
        parts.append("v1," + base64.b64encode(digest).decode())
    return " ".join(parts)


async def webhook_deliveries_claim(*, now: datetime, limit: int) -> list[ClaimedDelivery]:
    """Up to `limit` due deliveries to enabled endpoints, oldest due first, each claimed by this
    caller alone (one another worker claimed in between is skipped)."""
    due = (
        await WebhookDelivery.filter(
            status=WebhookDeliveryStatus.PENDING, next_attempt_at__lte=now, endpoint__enabled=True
        )
        .order_by("next_attempt_at", "id")
        .limit(limit)
        .values("id", "endpoint_id", "next_attempt_at")
    )
    if not due:
        return []
    until = now + timedelta(seconds=CLAIM_SECONDS)
    won = []
    per_endpoint: dict[uuid.UUID, int] = {}
    for row in due:
        # One endpoint's deliveries go one after another: more than a few in one batch could
        # outlast the claim while they wait their turn (the rest are claimed by the next batch).
        taken = per_endpoint.get(row["endpoint_id"], 0)
        if taken >= MAX_PER_ENDPOINT_PER_BATCH:
            continue
        per_endpoint[row["endpoint_id"]] = taken + 1
        claimed = await WebhookDelivery.filter(
            id=row["id"],
            status=WebhookDeliveryStatus.PENDING,
            next_attempt_at=row["next_attempt_at"],
        ).update(next_attempt_at=until)
        if claimed:
            won.append(row["id"])
    if not won:
        return []
    endpoints = {
        e.id: e
        for e in await WebhookEndpoint.filter(id__in=list({row["endpoint_id"] for row in due}))
    }
    claimed_rows = await WebhookDelivery.filter(id__in=won).order_by("next_attempt_at", "id")
    result = []
    for delivery in claimed_rows:
        endpoint = endpoints.get(delivery.endpoint_id)
        if endpoint is None:
            continue  # deleted meanwhile: its deliveries went with it
        result.append(
            ClaimedDelivery(
                id=delivery.id,
                endpoint_id=delivery.endpoint_id,
                organization_id=delivery.organization_id,
                event_id=delivery.event_id,
                event_type=delivery.event_type,
                body=delivery.body,
                attempts=delivery.attempts,
                url=endpoint.url,
                secrets=tuple(endpoint.signing_secrets(now)),
                claimed_until=until,
            )
        )
    return result


def _next_delay(attempts: int, outcome: Outcome, policy: WebhookPolicy) -> float | None:
    """Seconds until the next attempt after `attempts` failed ones; None when none is left."""
    if attempts > len(policy.retry_schedule):
        return None
    delay = float(policy.retry_schedule[attempts - 1])
    if outcome.status in RETRY_AFTER_STATUSES and outcome.retry_after_seconds is not None:
        delay = max(delay, min(outcome.retry_after_seconds, MAX_RETRY_AFTER_SECONDS))
    return delay


async def webhook_attempt_record(
    *, delivery: ClaimedDelivery, outcome: Outcome, now: datetime, policy: WebhookPolicy
) -> WebhookDeliveryStatus:
    """Record one attempt's outcome, in one transaction with what it causes (the next attempt's
    time, the endpoint disabled, the owners' mail). Returns the delivery's status now."""
    attempts = delivery.attempts + 1
    error = None if outcome.error is None else outcome.error[:MAX_ERROR_LENGTH]
    common = {"attempts": attempts, "last_attempt_at": now, "last_response_status": outcome.status}
    mine = WebhookDelivery.filter(id=delivery.id, next_attempt_at=delivery.claimed_until)
    endpoint_scope = WebhookEndpoint.filter(id=delivery.endpoint_id)
    async with in_transaction():
        if outcome.succeeded:
            await mine.update(
                status=WebhookDeliveryStatus.SUCCEEDED,
                next_attempt_at=None,
                last_error=None,
                **common,
            )
            await endpoint_scope.update(failing_since=None)
            return WebhookDeliveryStatus.SUCCEEDED
        endpoint = await endpoint_scope.first()
        if endpoint is None:
            return WebhookDeliveryStatus.FAILED
        failing_since = endpoint.failing_since or now
        disabled_reason = None
        if outcome.status == 410:
            disabled_reason = "The endpoint answered 410 Gone."
        elif now - failing_since >= DISABLE_AFTER:
            disabled_reason = f"Every delivery failed for 5 days (last: {error})."[:200]
        delay = None if disabled_reason else _next_delay(attempts, outcome, policy)
        if delay is None:
            await mine.update(
                status=WebhookDeliveryStatus.FAILED,
                next_attempt_at=None,
                last_error=error,
                **common,
            )
        else:
            await mine.update(
                next_attempt_at=now + timedelta(seconds=delay), last_error=error, **common
            )
        if disabled_reason is not None:
            await endpoint_scope.update(
                enabled=False, disabled_reason=disabled_reason, failing_since=failing_since
            )
        elif endpoint.failing_since is None:
            await endpoint_scope.update(failing_since=now)
        if delay is None and attempts == len(policy.retry_schedule) + 1:
            await _mail_owners(delivery, endpoint, error, now, policy)
        return WebhookDeliveryStatus.PENDING if delay is not None else WebhookDeliveryStatus.FAILED


async def _mail_owners(
    delivery: ClaimedDelivery,
    endpoint: WebhookEndpoint,
    error: str | None,
    now: datetime,
    policy: WebhookPolicy,
) -> None:
    """Tell the organization's OWNERs that an event could not be delivered (through the
    outbox, in the transaction that marks it FAILED)."""
    if not policy.mail.enabled:
        return
    owners = await Membership.filter(
        organization_id=delivery.organization_id, role=Role.OWNER
    ).values_list("user__email", flat=True)
    link = f"{policy.mail.public_url}/orgs/{delivery.organization_id}/settings"
    for email in owners:
        mail = Mail(
            to=str(email),
            subject="A keyward webhook could not be delivered",
            body=(
                f"keyward tried {delivery.attempts + 1} times to deliver the event "
                f"{delivery.event_type} ({delivery.event_id}) to\n{endpoint.url}\n"
                f"and gave up. The last attempt failed: {error}\n\n"
                f"See the endpoint's deliveries, and retry this one, here:\n{link}\n"
            ),
        )
        await outbox_add(kind=MAIL_KIND, payload=mail.payload(), now=now)


# Finished deliveries (SUCCEEDED or FAILED) are kept this long for the dashboard, then purged.
DELIVERY_RETENTION = timedelta(days=30)


async def webhook_deliveries_purge(*, now: datetime) -> int:
    """Delete finished deliveries older than DELIVERY_RETENTION; how many. PENDING ones stay
    whatever their age (a disabled endpoint's wait for it to be enabled again)."""
    return await WebhookDelivery.filter(
        status__in=[WebhookDeliveryStatus.SUCCEEDED, WebhookDeliveryStatus.FAILED],
        created_at__lt=now - DELIVERY_RETENTION,
    ).delete()
