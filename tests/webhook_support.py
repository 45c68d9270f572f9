"""A real webhook receiver (aiohttp on a free loopback port) that answers as a test tells it,
and the GraphQL documents and steps the webhook tests share."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiohttp import web
from standardwebhooks.webhooks import Webhook

from jobs.job_env import JobEnv
from jobs.webhook_delivery import deliver_webhooks
from settings import Settings
from tests.harness import Account, Api
from tests.team_support import free_port

CREATE_WEBHOOK_ENDPOINT = """
mutation Create($input: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) {
    __typename
    ... on WebhookEndpointCreated { secret endpoint { id url events enabled disabledReason } }
    ... on InvalidInput { field message }
    ... on Error { message }
  }
}
"""
ENDPOINTS = """
query Endpoints($id: ID) {
  organization(id: $id) {
    webhookEndpoints {
      id url events enabled disabledReason
      deliveries(first: 20) {
        totalCount
        edges { node { id eventId eventType status attempts lastAttemptAt nextAttemptAt
                       lastResponseStatus lastError } }
      }
    }
  }
}
"""
ROTATE_WEBHOOK_SECRET = """
mutation Rotate($input: RotateWebhookSecretInput!) {
  rotateWebhookSecret(input: $input) { __typename ... on WebhookSecretRotated { secret } }
}
"""


@dataclass
class Received:
    headers: dict[str, str]
    body: str


@dataclass
class Receiver:
    """Records every request; answers each with the next of `answers` (then 200), after
    `delay` seconds."""

    port: int
    received: list[Received] = field(default_factory=list)
    answers: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    delay: float = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append(Received(dict(request.headers), await request.text()))
        if self.delay:
            await asyncio.sleep(self.delay)
        status, headers = self.answers.pop(0) if self.answers else (200, {})
        return web.Response(status=status, headers=headers, text="ok")

    def verified(self, secret: str) -> list[dict[str, Any]]:
        """Every request's body, each verified by the reference implementation."""
        return [
            Webhook(secret).verify(r.body, {k.lower(): v for k, v in r.headers.items()})
            for r in self.received
        ]


@asynccontextmanager
async def receiver() -> AsyncIterator[Receiver]:
    app = web.Application()
    found = Receiver(free_port())
    app.router.add_post("/{tail:.*}", found.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", found.port).start()
    try:
        yield found
    finally:
        await runner.cleanup()


async def endpoint_create(
    api: Api, account: Account, url: str, events: list[str] | None = None
) -> dict[str, Any]:
    input = {"organizationId": account.organization_id, "url": url, "events": events or ["*"]}
    data = await api.query(CREATE_WEBHOOK_ENDPOINT, {"input": input}, token=account.session)
    return data["createWebhookEndpoint"]  # type: ignore[no-any-return]


async def endpoints(api: Api, account: Account) -> list[dict[str, Any]]:
    data = await api.query(ENDPOINTS, {"id": account.organization_id}, token=account.session)
    return data["organization"]["webhookEndpoints"]  # type: ignore[no-any-return]


async def _go_on() -> bool:
    return True


async def deliver(settings: Settings, now: datetime) -> dict[str, int]:
    """One run of the deliver-webhooks job at `now` (the caller is inside the database)."""
    return await deliver_webhooks(
        JobEnv(settings=settings, now=now, keep_going=_go_on, batch_size=None)
    )
