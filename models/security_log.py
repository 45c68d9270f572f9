"""A user's own security log: account-level events (sign-up, sign-in, failed sign-in, sign-out,
ended sessions, password change and reset, notification settings), as GitHub keeps one per
account. Same shape as the audit log (actor, client address, user agent, request id), without a
hash chain: it belongs to one person, who reads it to spot a sign-in that was not theirs.

A failed sign-in for an email nobody has is not recorded: it belongs to nobody.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from models.audit import Actor, ActorType
from models.audit_entities import SecurityEvent
from models.entities import User
from models.errors import InvalidInput
from models.event_ids import new_event_id
from models.request_context import RequestContext

MAX_PAGE_SIZE = 100


class SecurityAction:
    SIGNED_UP = "user.signed_up"
    SIGNED_IN = "user.signed_in"
    SIGN_IN_FAILED = "user.sign_in_failed"
    SIGNED_OUT = "user.signed_out"
    SESSION_ENDED = "session.ended"
    PASSWORD_CHANGED = "user.password_changed"
    PASSWORD_RESET = "user.password_reset"
    PASSWORD_RESET_REQUESTED = "user.password_reset_requested"
    NOTIFICATION_SETTINGS_CHANGED = "user.notification_settings_changed"


async def security_record(
    *,
    user_id: uuid.UUID,
    action: str,
    actor: Actor | None = None,
    details: dict[str, Any] | None = None,
    context: RequestContext,
    now: datetime,
) -> None:
    """Append to the user's security log (inside the change's transaction when there is one).
    The actor is the user unless said otherwise."""
    if actor is None:
        emails = await User.filter(id=user_id).values_list("email", flat=True)
        actor = Actor(ActorType.USER, str(user_id), str(emails[0]) if emails else None)
    await SecurityEvent.create(
        id=new_event_id(now),
        user_id=user_id,
        occurred_at=now,
        action=action,
        actor_type=actor.type.value,
        actor_id=actor.id,
        actor_name=actor.name,
        details=details,
        client_address=context.client_address,
        user_agent=context.user_agent,
        request_id=context.request_id,
    )


@dataclass(frozen=True)
class SecurityEventPage:
    events: list[SecurityEvent]
    has_next_page: bool


async def security_events_list(
    *, user_id: uuid.UUID, first: int, after: str | None
) -> SecurityEventPage:
    """The user's security events, newest first, after the event id `after`."""
    if not 1 <= first <= MAX_PAGE_SIZE:
        raise InvalidInput("first", f"first must lie between 1 and {MAX_PAGE_SIZE}.")
    query = SecurityEvent.filter(user_id=user_id)
    if after is not None:
        query = query.filter(id__lt=after)
    rows = await query.order_by("-id").limit(first + 1)
    return SecurityEventPage(events=rows[:first], has_next_page=len(rows) > first)
