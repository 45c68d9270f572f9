"""The tables of the audit log, the security log and verification analytics.

None of them has a foreign key to an organization or a key: an organization's `organization.deleted`
event, a deleted key's tombstone and its usage must outlive the rows they describe (until
`AUDIT_RETENTION_DAYS`). Only the security log belongs to its user and goes with them.
"""

from __future__ import annotations

import uuid
from typing import Any

from tortoise import fields
from tortoise.models import Model

from models.entities import User


class AuditEvent(Model):
    """One change to an organization, written in the transaction that made the change.
    `sequence` orders the organization's hash chain; `hash` = SHA-256(`previous_hash` ‖ the
    canonical JSON of the event, see `models.audit`)."""

    id = fields.CharField(max_length=26, primary_key=True)  # ULID-like: sortable by time
    organization_id = fields.UUIDField()
    sequence = fields.BigIntField()
    occurred_at = fields.DatetimeField()
    action = fields.CharField(max_length=64)
    actor_type = fields.CharField(max_length=8)
    actor_id = fields.CharField(max_length=64, null=True)
    actor_name = fields.CharField(max_length=300, null=True)
    target_type = fields.CharField(max_length=32, null=True)
    target_id = fields.CharField(max_length=64, null=True)
    target_name = fields.CharField(max_length=300, null=True)
    details: fields.Field[Any] = fields.JSONField(null=True)
    client_address = fields.CharField(max_length=64, null=True)
    user_agent = fields.CharField(max_length=256, null=True)
    request_id = fields.CharField(max_length=128, null=True)
    previous_hash = fields.CharField(max_length=64)
    hash = fields.CharField(max_length=64)

    class Meta:
        table = "audit_event"
        unique_together = (("organization_id", "sequence"),)
        indexes = (("organization_id", "occurred_at"),)


class AuditChain(Model):
    """The head of each organization's chain (its last sequence and hash), and the anchor the
    retention purge leaves: the sequence and hash of the last event it removed."""

    organization_id = fields.UUIDField(primary_key=True)
    head_sequence = fields.BigIntField()
    head_hash = fields.CharField(max_length=64)
    anchor_sequence = fields.BigIntField(default=0)
    anchor_hash = fields.CharField(max_length=64)

    class Meta:
        table = "audit_chain"


class SecurityEvent(Model):
    """One account-level event in a user's own security log (sign-up, sign-in, failed sign-in,
    sign-out, ended sessions, password changes)."""

    id = fields.CharField(max_length=26, primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.CASCADE
    )
    occurred_at = fields.DatetimeField()
    action = fields.CharField(max_length=64)
    actor_type = fields.CharField(max_length=8)
    actor_id = fields.CharField(max_length=64, null=True)
    actor_name = fields.CharField(max_length=300, null=True)
    details: fields.Field[Any] = fields.JSONField(null=True)
    client_address = fields.CharField(max_length=64, null=True)
    user_agent = fields.CharField(max_length=256, null=True)
    request_id = fields.CharField(max_length=128, null=True)

    user_id: uuid.UUID

    class Meta:
        table = "security_event"
        indexes = (("user_id", "id"), ("occurred_at",))


class KeyTombstone(Model):
    """What is left of a deleted or purged key: enough to tell its owner that it is still being
    sent, never enough to use it (the digest only matches the token its holder already has)."""

    key_id = fields.UUIDField(primary_key=True)
    digest = fields.CharField(max_length=64, unique=True)
    organization_id = fields.UUIDField()
    name = fields.CharField(max_length=100)
    start = fields.CharField(max_length=32)
    deleted_at = fields.DatetimeField(db_index=True)
    last_seen_at = fields.DatetimeField(null=True)
    last_client_address = fields.CharField(max_length=64, null=True)

    class Meta:
        table = "key_tombstone"
        indexes = (("organization_id", "last_seen_at", "key_id"),)


class KeyLeak(Model):
    """A key found in public: by GitHub's secret scanning or a reporter (see `models.leaks`).
    `key_id` names the key, or its tombstone once it is deleted (no foreign key: the record
    outlives the key, until `AUDIT_RETENTION_DAYS`)."""

    id = fields.BigIntField(primary_key=True)
    key_id = fields.UUIDField()
    organization_id = fields.UUIDField()
    url = fields.CharField(max_length=2048, null=True)
    source = fields.CharField(max_length=64)
    reporter = fields.CharField(max_length=8)  # GITHUB or REPORTER (an audit actor type)
    revoked = fields.BooleanField()
    found_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "key_leak"
        indexes = (("key_id", "found_at"), ("organization_id", "found_at"))


class KeyUsage(Model):
    """Verifications of one key in one hour with one outcome (VALID, EXPIRED, …)."""

    id = fields.BigIntField(primary_key=True)
    key_id = fields.UUIDField()
    organization_id = fields.UUIDField()
    hour = fields.DatetimeField(db_index=True)
    outcome = fields.CharField(max_length=16)
    count = fields.BigIntField()

    class Meta:
        table = "key_usage"
        unique_together = (("key_id", "hour", "outcome"),)


class RevokedKeyUse(Model):
    """Uses of one deleted or purged key (by its tombstone) in one hour."""

    id = fields.BigIntField(primary_key=True)
    key_id = fields.UUIDField()
    organization_id = fields.UUIDField()
    hour = fields.DatetimeField(db_index=True)
    count = fields.BigIntField()

    class Meta:
        table = "revoked_key_use"
        unique_together = (("key_id", "hour"),)
