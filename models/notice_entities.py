"""The tables behind expiry notices (issue 17): which notice each key has had, and who wants
notice mail."""

from __future__ import annotations

import uuid

from tortoise import fields
from tortoise.models import Model

from models.entities import User


class ExpiryNotice(Model):
    """One `api_key.expiring` notice sent for one key at one threshold (`30d`, `7d`, `1d`, `1h`).

    The unique (key_id, threshold) pair is what makes a threshold fire once per key, whatever the
    number of workers or restarts: the row is inserted in the transaction that emits the event
    and queues the mail, and a second insert of the pair does nothing. No foreign key to the key:
    the purge of expired keys must not pay for a cascade; rows are dropped by age instead."""

    id = fields.BigIntField(primary_key=True)
    key_id = fields.UUIDField()
    organization_id = fields.UUIDField()
    threshold = fields.CharField(max_length=3)
    sent_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "expiry_notice"
        unique_together = (("key_id", "threshold"),)


class NotificationSettings(Model):
    """A user's own notification choices: no row means the defaults (notices on)."""

    id = fields.BigIntField(primary_key=True)
    user: fields.OneToOneRelation[User] = fields.OneToOneField(
        "models.User", related_name=False, on_delete=fields.CASCADE
    )
    expiry_notices = fields.BooleanField()
    updated_at = fields.DatetimeField()

    user_id: uuid.UUID

    class Meta:
        table = "notification_settings"
