"""Health and readiness for orchestrators.

`/healthz` never touches the database: the process is alive, a restart would not help.
`/readyz` says not ready when the database cannot answer, so a load balancer stops sending
traffic until it can.
"""

from __future__ import annotations

import asyncio

from aiohttp import web
from tortoise.connection import get_connection

from models.database import database_unavailable
from models.key_cache import key_cache_report

# A readiness probe must answer before the orchestrator's own timeout (often 1 s).
READY_TIMEOUT_SECONDS = 0.8


async def healthz(request: web.Request) -> web.Response:
    """Alive; with the verification cache's state and counters (`listening`, `bypass`, `off`)."""
    return web.json_response({"status": "ok", "keyCache": key_cache_report()})


async def readyz(request: web.Request) -> web.Response:
    """200 when the database answers a trivial query in time, 503 otherwise."""
    try:
        await asyncio.wait_for(
            get_connection("default").execute_query("SELECT 1"), READY_TIMEOUT_SECONDS
        )
    except Exception as error:
        if not database_unavailable(error):
            raise
        return web.json_response({"status": "unavailable"}, status=503)
    return web.json_response({"status": "ready"})
