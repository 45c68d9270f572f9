"""signOut: ends the caller's session at once."""

from __future__ import annotations

from models.accounts import session_end
from schema.context import Info


async def sign_out(info: Info) -> bool:
    principal = info.context.require_user()
    return await session_end(
        user_id=principal.user_id,
        session_id=principal.session_id,
        now=info.context.now,
        context=info.context.request,
    )
