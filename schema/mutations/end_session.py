"""endSession: end one of the caller's own sessions at once (signOut ends the current one)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from models.sessions import session_end_own
from schema.context import Info
from schema.errors import Error
from schema.types import parse_id


@strawberry.input
class EndSessionInput:
    id: strawberry.ID


@strawberry.type
class SessionEnded:
    ended_session_id: strawberry.ID


@strawberry.type
class SessionNotFound(Error):
    pass


EndSessionResult = Annotated[SessionEnded | SessionNotFound, strawberry.union("EndSessionResult")]


async def end_session(info: Info, input: EndSessionInput) -> EndSessionResult:
    principal = info.context.require_user()
    session_id = parse_id(input.id)
    if session_id is None or not await session_end_own(
        user_id=principal.user_id,
        session_id=session_id,
        now=info.context.now,
        context=info.context.request,
    ):
        return SessionNotFound(message="No such session.")
    return SessionEnded(ended_session_id=strawberry.ID(str(session_id)))
