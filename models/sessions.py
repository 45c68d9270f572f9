"""A signed-in user's view of their own sessions: list them, end any one of them.

`signOut` ends the current session (`accounts.session_end`); these let a user who suspects a
stolen or forgotten session end it from elsewhere. Every lookup is scoped to the user, so
another user's session is simply not found.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from tortoise.transactions import in_transaction

from models import expiry
from models.entities import Session
from models.request_context import NO_REQUEST, RequestContext
from models.security_log import SecurityAction, security_record

MAX_LISTED_SESSIONS = 100  # newest first; a user with more has far bigger problems


async def session_list(*, user_id: uuid.UUID, now: datetime) -> list[Session]:
    """The user's sessions that have not ended, newest first."""
    return (
        await Session.filter(expiry.live_q(now), user_id=user_id)
        .order_by("-created_at", "-id")
        .limit(MAX_LISTED_SESSIONS)
    )


async def session_end_own(
    *,
    user_id: uuid.UUID,
    session_id: uuid.UUID,
    now: datetime,
    context: RequestContext = NO_REQUEST,
) -> bool:
    """End one of the user's sessions at once (recorded in their security log); False when the
    user has no such session."""
    async with in_transaction():
        ended = await Session.filter(id=session_id, user_id=user_id).delete() > 0
        if ended:
            await security_record(
                user_id=user_id,
                action=SecurityAction.SESSION_ENDED,
                details={"sessionId": str(session_id)},
                context=context,
                now=now,
            )
        return ended
