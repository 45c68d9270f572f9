"""Expiry notices (issue 17): tell an organization before one of its keys stops working.

A key with an `expires_at` is noticed 30 days, 7 days and 1 day ahead; a rolled key 1 hour
before its grace ends. Each threshold fires once per key: the (key, threshold) row in
`expiry_notice` is inserted by the same statement that picks the key (`ON CONFLICT DO NOTHING`),
in the transaction that emits `api_key.expiring` and queues the mail, so two workers, a restart
or a rerun never notice a key twice, and a rolled-back run notices nothing. A key already past
several thresholds when first seen (created 5 days ahead, or the job was down) gets one notice,
for the nearest: each threshold only takes keys between it and the next nearer one.

Mail goes through the outbox to each OWNER and ADMIN who has not turned notices off
(`notification_settings`), one per key and threshold; the event goes to `event_emit`.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from models.entities import ApiKey, Membership, Role
from models.events import event_emit, key_data
from models.housekeeping import BATCH_SIZE, KeepGoing
from models.mail import MAIL_KIND, expiry_notice_mail
from models.notice_entities import ExpiryNotice, NotificationSettings
from models.outbox import outbox_add_many
from models.policies import MailPolicy
from models.sql import as_uuid, is_sqlite, numbered

EVENT_TYPE = "api_key.expiring"


@dataclass(frozen=True, slots=True)
class Threshold:
    name: str  # what the event's `threshold` says
    ahead: timedelta
    rolled: bool  # for rolled keys (their grace), or for keys with an expiry of their own


# Nearest first within each kind: a key is due for the nearest threshold it has passed.
KEY_THRESHOLDS = (
    Threshold("1d", timedelta(days=1), rolled=False),
    Threshold("7d", timedelta(days=7), rolled=False),
    Threshold("30d", timedelta(days=30), rolled=False),
)
ROLLED_THRESHOLDS = (Threshold("1h", timedelta(hours=1), rolled=True),)
# A notice row is needed only while its key can still be noticed: never longer than the farthest
# threshold, since the key has stopped working by then (an expiry only ever moves earlier).
NOTICE_RETENTION = timedelta(days=31)

# Keys claimed per statement: each brings an event and a mail per owner or admin into the
# same transaction, so a batch stays a few hundred small inserts, like the other jobs' batches.
NOTICE_BATCH_SIZE = 100

# The keys due for one threshold: inside its window, and not yet noticed at it.
_DUE = (
    " FROM api_key WHERE expires_at > ? AND expires_at <= ? AND rolled_at IS {rolled}"
    " AND NOT EXISTS (SELECT 1 FROM expiry_notice n"
    " WHERE n.key_id = api_key.id AND n.threshold = ?)"
)
_CLAIM = (
    "INSERT INTO expiry_notice (key_id, organization_id, threshold, sent_at)"
    " SELECT id, organization_id, ?{text}, ?{moment}" + _DUE + " ORDER BY expires_at LIMIT ?"
    " ON CONFLICT (key_id, threshold) DO NOTHING RETURNING key_id"
)
# Asked first, outside any transaction: most runs find nothing due, and this way they never take
# SQLite's write lock (the claim holds it while it scans the window: 40-80 ms at 20,000 keys).
_ANY_DUE = "SELECT 1" + _DUE + " LIMIT 1"


async def api_keys_notify_expiring(
    *,
    now: datetime,
    mail: MailPolicy,
    batch_size: int = NOTICE_BATCH_SIZE,
    keep_going: KeepGoing | None = None,
) -> int:
    """Send every expiry notice due at `now`; returns how many (key, threshold) notices this
    call sent. Notice rows older than `NOTICE_RETENTION` are dropped first."""
    await _forget_old(now)
    sent = 0
    for thresholds in (KEY_THRESHOLDS, ROLLED_THRESHOLDS):
        nearer = now
        for threshold in thresholds:
            until = now + threshold.ahead
            while True:
                count = await _notify_batch(threshold, nearer, until, now, mail, batch_size)
                sent += count
                if count == 0 or (keep_going is not None and not await keep_going()):
                    break
            if keep_going is not None and not await keep_going():
                return sent
            nearer = until
    return sent


async def _forget_old(now: datetime) -> None:
    while True:
        ids = (
            await ExpiryNotice.filter(sent_at__lt=now - NOTICE_RETENTION)
            .limit(BATCH_SIZE)
            .values_list("id", flat=True)
        )
        if not ids:
            return
        await ExpiryNotice.filter(id__in=list(ids)).delete()


async def _notify_batch(
    threshold: Threshold,
    after: datetime,
    until: datetime,
    now: datetime,
    mail: MailPolicy,
    batch_size: int,
) -> int:
    rolled = "NOT NULL" if threshold.rolled else "NULL"
    probe = _ANY_DUE.format(rolled=rolled)
    db = ApiKey._meta.db
    if not await db.execute_query_dict(
        probe if is_sqlite(db) else numbered(probe), [after, until, threshold.name]
    ):
        return 0
    async with in_transaction() as db:
        if is_sqlite(db):
            sql = _CLAIM.format(rolled=rolled, text="", moment="")
        else:  # PostgreSQL cannot tell a parameter's type in a SELECT list
            sql = numbered(_CLAIM.format(rolled=rolled, text="::text", moment="::timestamptz"))
        rows = await db.execute_query_dict(
            sql,
            [threshold.name, now, after, until, threshold.name, batch_size],
        )
        key_ids = [as_uuid(row["key_id"]) for row in rows]
        if not key_ids:
            return 0
        keys = await ApiKey.filter(id__in=key_ids).select_related("organization").order_by("id")
        organizations = {key.organization_id for key in keys}
        recipients = await _recipients(organizations) if mail.enabled else {}
        mails: list[dict[str, Any]] = []
        for key in keys:
            mails += await _notify(
                key, threshold, now, mail, recipients.get(key.organization_id, ())
            )
        if mails:
            await outbox_add_many(kind=MAIL_KIND, payloads=mails, now=now)
        return len(key_ids)


async def _recipients(organization_ids: set[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    """Each organization's OWNER and ADMIN emails, but for those who turned notices off."""
    members = await Membership.filter(
        organization_id__in=list(organization_ids), role__in=[Role.OWNER, Role.ADMIN]
    ).values_list("organization_id", "user_id", "user__email")
    opted_out = {
        as_uuid(user_id)
        for user_id in await NotificationSettings.filter(
            user_id__in=list({user_id for _, user_id, _ in members}), expiry_notices=False
        ).values_list("user_id", flat=True)
    }
    emails: dict[uuid.UUID, list[str]] = defaultdict(list)
    for organization_id, user_id, email in sorted(members, key=lambda m: str(m[2])):
        if as_uuid(user_id) not in opted_out:
            emails[as_uuid(organization_id)].append(str(email))
    return emails


async def _notify(
    key: ApiKey, threshold: Threshold, now: datetime, mail: MailPolicy, to: Sequence[str]
) -> list[dict[str, Any]]:
    """Emit the key's event; returns its mails' payloads, for the batch to queue at once."""
    if key.expires_at is None:  # never: the claim only takes keys with an expiry
        return []
    await event_emit(
        organization_id=key.organization_id,
        type=EVENT_TYPE,
        data={
            "organizationId": str(key.organization_id),
            "key": key_data(key),
            "threshold": threshold.name,
        },
        now=now,
    )
    link = mail.page(f"/orgs/{key.organization_id}/keys/{key.id}")
    return [
        expiry_notice_mail(
            to=address,
            organization_name=key.organization.name,
            key_name=key.name,
            key_start=key.start,
            rolled=key.rolled_at is not None,
            expires_at=key.expires_at,
            link=link,
            settings_link=mail.page("/account"),
        ).payload()
        for address in to
    ]
