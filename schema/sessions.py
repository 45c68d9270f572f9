"""The signed-in user's sessions, as a Query field: `sessions`."""

from __future__ import annotations

from datetime import datetime

import strawberry

from models import entities
from models.sessions import session_list
from schema.context import Info


@strawberry.type(description="A signed-in browser or client of the user.")
class Session:
    id: strawberry.ID = strawberry.field(description="The session's id (not its token).")
    created_at: datetime = strawberry.field(description="When it was signed in.")
    expires_at: datetime = strawberry.field(
        description="When it ends by itself (SESSION_TTL_SECONDS after signing in)."
    )
    current: bool = strawberry.field(description="Whether this request uses this session.")

    @classmethod
    def from_model(cls, session: entities.Session, *, current: bool) -> Session:
        return cls(
            id=strawberry.ID(str(session.id)),
            created_at=session.created_at,
            expires_at=session.expires_at,
            current=current,
        )


async def sessions(info: Info) -> list[Session]:
    principal = info.context.require_user()
    rows = await session_list(user_id=principal.user_id, now=info.context.now)
    return [Session.from_model(row, current=row.id == principal.session_id) for row in rows]
