"""endSession: end one of the caller's own sessions at once (signOut ends the current one)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from models.sessions import session_end_own
from schema.context import Info
from schema.errors import Error
from schema.types import parse_id


@strawberry.input(description="The session to end.")
class EndSessionInput:
    id: strawberry.ID = strawberry.field(description="A session's `id`, from `sessions`.")


@strawberry.type(description="The session is ended: its token is refused from now on.")
class SessionEnded:
    ended_session_id: strawberry.ID = strawberry.field(description="The ended session's id.")


@strawberry.type(description="The user has no such session (or it has ended already).")
class SessionNotFound(Error):
    pass


EndSessionResult = Annotated[
    SessionEnded | SessionNotFound,
    strawberry.union("EndSessionResult", description="What endSession did."),
]


async def end_session(
    info: Info,
    input: Annotated[EndSessionInput, strawberry.argument(description="The session.")],
) -> EndSessionResult:
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
