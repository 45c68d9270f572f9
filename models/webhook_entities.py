"""The tables of webhooks (issue 17): the endpoints an organization registers, and one delivery
row per (event, endpoint), written in the transaction of the event's cause (the outbox)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from models.entities import Organization


class WebhookDeliveryStatus(StrEnum):
    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


class WebhookEndpoint(Model):
    """A URL that hears about an organization's events, signed with its secret.

    The signing secret is kept as written: a signature is an HMAC, which needs the key itself (a
    digest could not sign). During a rotation the previous secret signs too, until
    `previous_secret_until`."""

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="webhook_endpoints", on_delete=fields.CASCADE
    )
    url = fields.CharField(max_length=2_000)
    events: list[str] = fields.JSONField()
    enabled = fields.BooleanField(default=True)
    disabled_reason = fields.CharField(max_length=200, null=True)
    secret = fields.CharField(max_length=100)
    previous_secret = fields.CharField(max_length=100, null=True)
    previous_secret_until = fields.DatetimeField(null=True)
    # The first failed attempt since the last success: five days of nothing but failures
    # disable the endpoint.
    failing_since = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()

    organization_id: uuid.UUID

    class Meta:
        table = "webhook_endpoint"
        indexes = (("organization_id", "created_at"),)

    def signing_secrets(self, now: datetime) -> list[str]:
        """The secrets that sign an attempt at `now`: the current one, and the previous one for
        24 hours after a rotation."""
        until = self.previous_secret_until
        if self.previous_secret and until is not None and now < until:
            return [self.secret, self.previous_secret]
        return [self.secret]


class WebhookDelivery(Model):
    """One event on its way to one endpoint. `body` is fixed when the event happens, so every
    retry sends (and signs) the same bytes under the same `event_id` (the `webhook-id`).

    `next_attempt_at` is also the claim: a worker moves it past the attempt's timeout with a
    conditional UPDATE before it sends, so two workers never send one attempt, and a worker
    that dies mid-attempt only delays the retry."""

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    endpoint: fields.ForeignKeyRelation[WebhookEndpoint] = fields.ForeignKeyField(
        "models.WebhookEndpoint", related_name="deliveries", on_delete=fields.CASCADE
    )
    organization_id = fields.UUIDField()
    event_id = fields.CharField(max_length=40)
    event_type = fields.CharField(max_length=64)
    body = fields.TextField()
    status = fields.CharEnumField(WebhookDeliveryStatus, max_length=9)
    attempts = fields.IntField(default=0)
    created_at = fields.DatetimeField()
    last_attempt_at = fields.DatetimeField(null=True)
    next_attempt_at = fields.DatetimeField(null=True)
    last_response_status = fields.IntField(null=True)
    last_error = fields.CharField(max_length=300, null=True)

    endpoint_id: uuid.UUID

    class Meta:
        table = "webhook_delivery"
        indexes = (("status", "next_attempt_at"), ("endpoint_id", "created_at"))
