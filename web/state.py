"""Typed application and request state: every `app[...]` and `request[...]` key in one place."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from aiohttp import web
from tortoise.context import TortoiseContext

from models.access import Principal
from models.clock import Clock
from models.passwords import Passwords
from models.policies import Policies
from settings import Settings
from web.github_keys import GitHubKeys

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

SETTINGS = web.AppKey("settings", Settings)
POLICIES = web.AppKey("policies", Policies)
PASSWORDS = web.AppKey("passwords", Passwords)
CLOCK: web.AppKey[Clock] = web.AppKey("clock")
DATABASE = web.AppKey("database", TortoiseContext)
GITHUB_KEYS = web.AppKey("github_keys", GitHubKeys)

# Fixed by the edge before any handler runs, for the whole request (see web.middlewares).
PRINCIPAL: web.RequestKey[Principal | None] = web.RequestKey("principal")
NOW: web.RequestKey[datetime] = web.RequestKey("now", datetime)

# The request's id (the client's `X-Request-Id` when acceptable, else generated; see web.observe).
REQUEST_ID: web.RequestKey[str] = web.RequestKey("request_id", str)


def request_id(request: web.BaseRequest) -> str | None:
    """The id of `request`, as logged and echoed in `X-Request-Id` (for audit events and logs)."""
    value = request.get(REQUEST_ID)
    return value if isinstance(value, str) else None
