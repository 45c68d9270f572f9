"""A signed-in user's view of their own sessions: list them, end any one of them.

`signOut` ends the current session (`accounts.session_end`); these let a user who suspects a
stolen or forgotten session end it from elsewhere. Every lookup is scoped to the user, so
another user's session is simply not found.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from models import expiry
from models.entities import Session

MAX_LISTED_SESSIONS = 100  # newest first; a user with more has far bigger problems


async def session_list(*, user_id: uuid.UUID, now: datetime) -> list[Session]:
    """The user's sessions that have not ended, newest first."""
    return (
        await Session.filter(expiry.live_q(now), user_id=user_id)
        .order_by("-created_at", "-id")
        .limit(MAX_LISTED_SESSIONS)
    )


async def session_end_own(*, user_id: uuid.UUID, session_id: uuid.UUID) -> bool:
    """End one of the user's sessions at once; False when the user has no such session."""
    return await Session.filter(id=session_id, user_id=user_id).delete() > 0
