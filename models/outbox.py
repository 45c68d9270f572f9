"""The outbox: side effects (mail today, webhooks tomorrow) written as rows in the same
transaction as the change that causes them, then delivered by a job with retries.

Nothing is lost (the row outlives a crash or an SMTP outage) and nothing is sent for a change
that rolled back (the row rolled back with it). A message is claimed before it is sent by a
conditional UPDATE that moves `next_attempt_at` past the send's timeout, so two workers never
send one message at once; it is deleted once delivered, and retried on failure after 1 min,
5 min, 30 min, 2 h and 6 h, then marked failed (its body dropped: it may hold a link).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from models.entities import OutboxMessage

# Seconds after each failed attempt before the next one; after the last, the message fails.
RETRY_DELAYS_SECONDS = (60, 300, 1_800, 7_200, 21_600)
# A claimed message is left alone this long: longer than any send may take (the sender's own
# timeout is far shorter), so a worker that dies mid-send only delays it.
CLAIM_SECONDS = 300
MAX_ERROR_LENGTH = 200


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int  # attempts made before this one


async def outbox_add(*, kind: str, payload: dict[str, Any], now: datetime) -> OutboxMessage:
    """Queue a message, due at once. Call it inside the transaction of the change it reports."""
    return await OutboxMessage.create(
        kind=kind, payload=payload, attempts=0, created_at=now, next_attempt_at=now
    )


async def outbox_add_many(*, kind: str, payloads: list[dict[str, Any]], now: datetime) -> None:
    """Queue several messages in one statement (a job's batch), due at once; inside the
    transaction of their cause, like `outbox_add`."""
    await OutboxMessage.bulk_create(
        OutboxMessage(kind=kind, payload=payload, attempts=0, created_at=now, next_attempt_at=now)
        for payload in payloads
    )


async def outbox_claim(*, kind: str, now: datetime, limit: int) -> list[Claimed]:
    """Up to `limit` due messages of `kind`, oldest first, each claimed by this caller alone:
    a message another worker claimed in between is skipped."""
    due = (
        await OutboxMessage.filter(kind=kind, failed_at=None, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "id")
        .limit(limit)
        .values("id", "kind", "payload", "attempts", "next_attempt_at")
    )
    claimed = []
    until = now + timedelta(seconds=CLAIM_SECONDS)
    for row in due:
        won = await OutboxMessage.filter(
            id=row["id"], failed_at=None, next_attempt_at=row["next_attempt_at"]
        ).update(next_attempt_at=until)
        if won:
            claimed.append(Claimed(row["id"], row["kind"], row["payload"], row["attempts"]))
    return claimed


async def outbox_delivered(*, message_id: int) -> None:
    """Delivered: the message (and whatever link it held) is gone."""
    await OutboxMessage.filter(id=message_id).delete()


async def outbox_attempt_failed(*, message: Claimed, error: str, now: datetime) -> bool:
    """Record a failed attempt and schedule the next; True when this was the last one and the
    message is now marked failed (kept without its body, for the operator)."""
    attempts = message.attempts + 1
    error = error[:MAX_ERROR_LENGTH]
    if attempts <= len(RETRY_DELAYS_SECONDS):
        await OutboxMessage.filter(id=message.id).update(
            attempts=attempts,
            last_error=error,
            next_attempt_at=now + timedelta(seconds=RETRY_DELAYS_SECONDS[attempts - 1]),
        )
        return False
    kept = {k: v for k, v in message.payload.items() if k != "body"}
    await OutboxMessage.filter(id=message.id).update(
        attempts=attempts, last_error=error, failed_at=now, payload=kept
    )
    return True
