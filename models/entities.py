"""Keyward's tables. Every timestamp is UTC and set from the caller's `now`, never by the database,
so that tests and jobs control time. Client-facing IDs are UUIDs."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from models import expiry
from models.restrictions import RestrictionMode


class ApiKeyType(StrEnum):
    PUBLIC = "PUBLIC"
    SECRET = "SECRET"


class ApiKeyStatus(StrEnum):
    ACTIVE = "ACTIVE"
    ROLLED = "ROLLED"
    EXPIRED = "EXPIRED"


class Role(StrEnum):
    OWNER = "OWNER"
    ADMIN = "ADMIN"
    MEMBER = "MEMBER"


class LeakPolicy(StrEnum):
    """What happens to a secret key found in public (see `models.leaks`)."""

    REVOKE = "REVOKE"
    NOTIFY = "NOTIFY"


class Organization(Model):
    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    name = fields.CharField(max_length=100)
    created_at = fields.DatetimeField()
    leak_policy = fields.CharEnumField(
        LeakPolicy, max_length=6, default=LeakPolicy.REVOKE, db_default=LeakPolicy.REVOKE.value
    )

    class Meta:
        table = "organization"


class User(Model):
    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    email = fields.CharField(max_length=254)
    # The lowercased email: one account per address, whatever its case.
    email_key = fields.CharField(max_length=254, unique=True)
    password_hash = fields.CharField(max_length=255)
    created_at = fields.DatetimeField()

    class Meta:
        table = "user"


class Membership(Model):
    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="memberships", on_delete=fields.CASCADE
    )
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="memberships", on_delete=fields.CASCADE
    )
    role = fields.CharEnumField(Role, max_length=6)
    created_at = fields.DatetimeField()

    user_id: uuid.UUID
    organization_id: uuid.UUID

    class Meta:
        table = "membership"
        unique_together = (("user", "organization"),)


class Session(Model):
    """A signed-in browser or client. Only the token's digest is kept."""

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="sessions", on_delete=fields.CASCADE
    )
    digest = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField(db_index=True)

    user_id: uuid.UUID

    class Meta:
        table = "session"


class ApiKey(Model):
    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="api_keys", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=100)
    type = fields.CharEnumField(ApiKeyType, max_length=6)
    is_default = fields.BooleanField(default=False)
    digest = fields.CharField(max_length=64, unique=True)
    start = fields.CharField(max_length=32)
    # The full token of a PUBLIC key (publishable by design); always NULL for a SECRET key.
    token = fields.CharField(max_length=128, null=True)
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField(null=True, db_index=True)
    rolled_at = fields.DatetimeField(null=True)
    # Set by the expire-rolled job once a rolled key's grace has ended: housekeeping only,
    # validity is always decided from `expires_at`.
    expired_at = fields.DatetimeField(null=True)
    last_used_at = fields.DatetimeField(null=True)
    replaced_by: fields.ForeignKeyNullableRelation[ApiKey] = fields.ForeignKeyField(
        "models.ApiKey", null=True, related_name=False, on_delete=fields.SET_NULL
    )
    # The key that created this one through the API (NULL when a person did, or once that key
    # is deleted): an owner cleaning up a leak sees what the leaked key made.
    created_by_key: fields.ForeignKeyNullableRelation[ApiKey] = fields.ForeignKeyField(
        "models.ApiKey", null=True, related_name=False, on_delete=fields.SET_NULL
    )

    # Where the key may be used from (`models.restrictions`): normalised JSON lists, NULL or
    # empty for unrestricted; checked at each verification from the row the lookup returns.
    allowed_cidrs: list[str] | None = fields.JSONField(null=True)
    allowed_origins: list[str] | None = fields.JSONField(null=True)
    restriction_mode = fields.CharEnumField(
        RestrictionMode, max_length=11, default=RestrictionMode.ENFORCE, db_default="ENFORCE"
    )
    # The latest refused (or, in REPORT_ONLY, would-be refused) use, written at the usage flush:
    # what the dashboard offers to allow.
    last_denied_at = fields.DatetimeField(null=True)
    last_denied_reason = fields.CharField(max_length=32, null=True)
    last_denied_address = fields.CharField(max_length=64, null=True)
    last_denied_origin = fields.CharField(max_length=300, null=True)

    organization_id: uuid.UUID
    replaced_by_id: uuid.UUID | None
    created_by_key_id: uuid.UUID | None

    class Meta:
        table = "api_key"
        # replaced_by_id: deleting a key sets its predecessors' link to NULL, and without an index
        # the database scans the whole table once per deleted key (measured: ~40 ms a key at
        # 87k rows on SQLite, which made the purge crawl).
        indexes = (
            ("organization_id", "created_at", "id"),
            ("replaced_by_id",),
            ("created_by_key_id",),
        )

    def status(self, now: datetime) -> ApiKeyStatus:
        return api_key_status(self.expires_at, self.rolled_at, now)


def api_key_status(
    expires_at: datetime | None, rolled_at: datetime | None, now: datetime
) -> ApiKeyStatus:
    """A key's status at `now`, from its timestamps alone."""
    if expiry.ended(expires_at, now):
        return ApiKeyStatus.EXPIRED
    if rolled_at is not None:
        return ApiKeyStatus.ROLLED
    return ApiKeyStatus.ACTIVE


class JobLease(Model):
    """One row per scheduled job: the worker whose conditional UPDATE moves `lease_until`
    forward owns the current run, so several workers run each job once per interval."""

    name = fields.CharField(max_length=64, primary_key=True)
    lease_until = fields.DatetimeField()
    holder = fields.CharField(max_length=128, null=True)
    last_run_at = fields.DatetimeField(null=True)

    class Meta:
        table = "job_lease"


class SignInAttempt(Model):
    """One sign-in attempt, written *before* the password is checked and deleted again when it
    succeeds or is refused, so the rows in a window are the failures (plus those in flight).

    Kept in the database, not in memory, so the brute-force limits hold across every API
    process. The email is kept only as a digest: people type passwords into email fields.
    The autoincrement id orders concurrent attempts: an attempt is allowed when fewer than the
    limit of rows with a smaller id fall in the window.
    """

    id = fields.BigIntField(primary_key=True)
    email_digest = fields.CharField(max_length=64)
    client_address = fields.CharField(max_length=64)
    attempted_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "sign_in_attempt"
        indexes = (("email_digest", "attempted_at"), ("client_address", "attempted_at"))


class LeakReportAttempt(Model):
    """One call of `POST /v1/keys/report-leak`, by client address only: counted so that one
    address cannot probe without bound (`LEAK_REPORTS_PER_HOUR`); purged once past the hour."""

    id = fields.BigIntField(primary_key=True)
    client_address = fields.CharField(max_length=64)
    reported_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "leak_report_attempt"
        indexes = (("client_address", "reported_at"),)


class SignUp(Model):
    """One sign-up, by client address only: counted so that one address cannot create accounts
    without bound (`SIGN_UP_MAX_PER_ADDRESS_PER_HOUR`); purged once past the hour."""

    id = fields.BigIntField(primary_key=True)
    client_address = fields.CharField(max_length=64)
    signed_up_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "sign_up"
        indexes = (("client_address", "signed_up_at"),)


class Invitation(Model):
    """An invitation to join an organization with a role. Only the token's digest is kept, and
    its status is decided from the timestamps, like a key's."""

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="invitations", on_delete=fields.CASCADE
    )
    email = fields.CharField(max_length=254)
    # The email after sign-up's normalisation: only that account may accept.
    email_key = fields.CharField(max_length=254)
    role = fields.CharEnumField(Role, max_length=6)
    digest = fields.CharField(max_length=64, unique=True)
    invited_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", null=True, related_name=False, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    accepted_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)

    organization_id: uuid.UUID
    invited_by_id: uuid.UUID | None

    class Meta:
        table = "invitation"
        indexes = (("organization_id", "email_key"),)


class PasswordReset(Model):
    """A password-reset token, by digest: single use (the row is deleted when used)."""

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="password_resets", on_delete=fields.CASCADE
    )
    digest = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField(db_index=True)

    user_id: uuid.UUID

    class Meta:
        table = "password_reset"


class OutboxMessage(Model):
    """A side effect waiting to leave (a mail today, webhooks may reuse it): written in the same
    transaction as the change that causes it, delivered by a job, deleted once delivered.

    `next_attempt_at` is also the claim: a worker moves it forward with a conditional UPDATE
    before sending, so two workers never send one message at once."""

    id = fields.BigIntField(primary_key=True)
    kind = fields.CharField(max_length=32)
    payload: dict[str, object] = fields.JSONField()
    attempts = fields.IntField(default=0)
    created_at = fields.DatetimeField()
    next_attempt_at = fields.DatetimeField()
    last_error = fields.CharField(max_length=200, null=True)
    # Set when the last retry failed: the message is kept (without its body) for the operator.
    failed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "outbox"
        indexes = (("failed_at", "next_attempt_at"),)


class KeyChange(Model):
    """One row (id 1) that every change to keys bumps in its own transaction, on SQLite only:
    the other processes on the same file poll it to evict what their verification caches hold
    (PostgreSQL uses NOTIFY instead; see `models.key_changes`). `names` says what the latest
    change touched, so a poller that missed none flushes only that."""

    id = fields.IntField(primary_key=True)
    version = fields.BigIntField()
    names = fields.TextField()

    class Meta:
        table = "key_change"
