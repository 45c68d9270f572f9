"""signOut: ends the caller's session at once."""

from __future__ import annotations

from models.accounts import session_end
from schema.context import Info


async def sign_out(info: Info) -> bool:
    principal = info.context.require_user()
    return await session_end(session_id=principal.session_id)
