"""The `deliver-webhooks` job: POSTs the webhook outbox's due deliveries, signed as Standard
Webhooks says, and records each attempt (`models.webhook_delivery` decides what follows).

Every attempt goes through the SSRF guard **at connection time**: the URL's host is resolved by
`GuardedResolver` (no DNS cache) and refused when any address it gets is one the guard forbids,
so a name that now points inside the network fails with a clear `lastError`; an IP literal is
checked before connecting. Redirects are never followed (a 3xx is a failure), proxies from the
environment are ignored, and an attempt gets WEBHOOK_TIMEOUT_SECONDS (15 s) in all. Deliveries
to different endpoints go out concurrently; one endpoint's go one after another.
"""

from __future__ import annotations

import asyncio
import email.utils
import ipaddress
import logging
import socket
from collections import defaultdict
from datetime import UTC, datetime

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

from jobs.job_env import JobEnv
from models.policies import WebhookPolicy
from models.webhook_delivery import (
    ClaimedDelivery,
    Outcome,
    webhook_attempt_record,
    webhook_deliveries_claim,
    webhook_signature,
)
from models.webhook_entities import WebhookDeliveryStatus
from models.webhook_guard import address_refusal, url_parts

log = logging.getLogger("keyward.webhooks")

# Deliveries claimed per batch: at most this many attempts are in flight at once, each bounded
# by the timeout, so a batch ends well inside the job's lease.
BATCH_SIZE = 50
USER_AGENT = "keyward-webhooks/1"


class GuardRefused(OSError):
    """The SSRF guard refused the address a webhook's host resolved to."""


class GuardedResolver(AbstractResolver):
    """Resolves like the system does, then refuses the whole answer when any address in it is
    one the guard forbids (a name with one public and one private address is refused too)."""

    def __init__(self, policy: WebhookPolicy) -> None:
        self.policy = policy
        self.inner = ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        answers = await self.inner.resolve(host, port, family)
        for answer in answers:
            refusal = address_refusal(answer["host"], self.policy)
            if refusal is not None:
                raise GuardRefused(f"refused by the SSRF guard: {host} resolves to {refusal}")
        return answers

    async def close(self) -> None:
        await self.inner.close()


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """A Retry-After header (seconds, or an HTTP date) as seconds from `now`."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - now).total_seconds())


def _literal_refusal(url: str, policy: WebhookPolicy) -> str | None:
    """The guard's verdict on the URL itself: its form, and its host when that is an IP."""
    try:
        host = url_parts(url, policy).hostname or ""
    except Exception as error:  # InvalidInput: the settings changed since the URL was accepted
        return f"refused by the SSRF guard: {getattr(error, 'message', error)}"
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return None
    refusal = address_refusal(host, policy)
    return None if refusal is None else f"refused by the SSRF guard: {refusal}"


async def webhook_attempt(
    session: aiohttp.ClientSession, delivery: ClaimedDelivery, now: datetime, policy: WebhookPolicy
) -> Outcome:
    """One POST of the delivery; its outcome, never an exception."""
    refusal = _literal_refusal(delivery.url, policy)
    if refusal is not None:
        return Outcome(None, refusal)
    timestamp = int(now.timestamp())
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": delivery.event_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": webhook_signature(
            delivery.secrets, delivery.event_id, timestamp, delivery.body
        ),
    }
    try:
        async with session.post(
            delivery.url, data=delivery.body.encode(), headers=headers, allow_redirects=False
        ) as response:
            status = response.status
            retry_after = retry_after_seconds(response.headers.get("retry-after"), now)
    except aiohttp.ClientConnectorError as error:
        if isinstance(error.os_error, GuardRefused):
            return Outcome(None, str(error.os_error))
        return Outcome(None, f"could not connect: {error.os_error.strerror or error.os_error}")
    except TimeoutError:
        return Outcome(None, f"timed out after {policy.timeout_seconds:g} s")
    except aiohttp.ClientError as error:
        return Outcome(None, f"{type(error).__name__}: {error}")
    except Exception as error:  # one endpoint's surprise must not stop the others' deliveries
        return Outcome(None, f"failed: {type(error).__name__}")
    if 200 <= status < 300:
        return Outcome(status, None)
    if 300 <= status < 400:
        return Outcome(status, f"answered {status}: redirects are not followed")
    return Outcome(status, f"answered {status}", retry_after)


async def _deliver_to_endpoint(
    session: aiohttp.ClientSession,
    deliveries: list[ClaimedDelivery],
    now: datetime,
    policy: WebhookPolicy,
    counts: dict[str, int],
) -> None:
    for delivery in deliveries:
        outcome = await webhook_attempt(session, delivery, now, policy)
        status = await webhook_attempt_record(
            delivery=delivery, outcome=outcome, now=now, policy=policy
        )
        if status is WebhookDeliveryStatus.SUCCEEDED:
            counts["delivered"] += 1
        elif status is WebhookDeliveryStatus.PENDING:
            counts["retried"] += 1
        else:
            counts["failed"] += 1
            # ids and the outcome only: a body or a URL may carry what an operator's log should
            # not (a URL can hold a receiver's own token)
            log.warning(
                "webhook delivery failed for good: delivery_id=%s attempts=%d status=%s",
                delivery.id,
                delivery.attempts + 1,
                outcome.status,
            )


def webhook_session(policy: WebhookPolicy) -> aiohttp.ClientSession:
    """The HTTP client every attempt goes through: guarded resolver, no DNS cache, no proxies
    from the environment, the attempt's timeout."""
    connector = aiohttp.TCPConnector(
        resolver=GuardedResolver(policy), use_dns_cache=False, limit=BATCH_SIZE
    )
    return aiohttp.ClientSession(
        connector=connector,
        timeout=aiohttp.ClientTimeout(total=policy.timeout_seconds),
        trust_env=False,
        cookie_jar=aiohttp.DummyCookieJar(),
    )


async def deliver_webhooks(env: JobEnv) -> dict[str, int]:
    """Attempt every due delivery once, batch by batch, until none is due at `env.now` or the
    runner says stop."""
    counts = {"delivered": 0, "retried": 0, "failed": 0}
    policy = env.settings.policies().webhooks
    async with webhook_session(policy) as session:
        while True:
            batch = await webhook_deliveries_claim(now=env.now, limit=env.batch_size or BATCH_SIZE)
            by_endpoint: dict[object, list[ClaimedDelivery]] = defaultdict(list)
            for delivery in batch:
                by_endpoint[delivery.endpoint_id].append(delivery)
            await asyncio.gather(
                *(
                    _deliver_to_endpoint(session, deliveries, env.now, policy, counts)
                    for deliveries in by_endpoint.values()
                )
            )
            # Every attempt moves its delivery past `env.now` (the schedule's delays are at
            # least a second), so each is made once per run and the loop ends.
            if not batch or not await env.keep_going():
                return counts
