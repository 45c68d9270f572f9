"""Health and readiness for orchestrators.

`/healthz` never touches the database: the process is alive, a restart would not help.
`/readyz` says not ready when the database cannot answer, so a load balancer stops sending
traffic until it can.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web
from tortoise.connection import get_connection

from models.database import database_unavailable
from telemetry.database import database_error_observed
from web.rest import Operation, Reply
from web.shapes import describe, to_json

# A readiness probe must answer before the orchestrator's own timeout (often 1 s).
READY_TIMEOUT_SECONDS = 0.8


@dataclass(frozen=True)
class Liveness:
    """The process is running."""

    status: Literal["ok"] = field(metadata=describe("Always `ok`."))


@dataclass(frozen=True)
class Readiness:
    """Whether this process can serve requests now."""

    status: Literal["ready", "unavailable"] = field(
        metadata=describe("`ready` when the database answered in time, `unavailable` if not.")
    )


async def healthz(request: web.Request) -> web.Response:
    return web.json_response(to_json(Liveness(status="ok")))


async def readyz(request: web.Request) -> web.Response:
    """200 when the database answers a trivial query in time, 503 otherwise."""
    probe = asyncio.ensure_future(get_connection("default").execute_query("SELECT 1"))
    # Not wait_for: it waits for the cancelled query to unwind, and a query on a black-holed
    # connection unwinds only at its command timeout. The probe is left to finish on its own.
    done, _ = await asyncio.wait({probe}, timeout=READY_TIMEOUT_SECONDS)
    if not done:
        probe.add_done_callback(_consume)
        probe.cancel()
        return _unavailable()
    error = probe.exception()
    if error is not None:
        if not database_unavailable(error):
            raise error
        database_error_observed(error)
        return _unavailable()
    return web.json_response(to_json(Readiness(status="ready")))


def _unavailable() -> web.Response:
    return web.json_response(to_json(Readiness(status="unavailable")), status=503)


def _consume(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()


HEALTHZ = Operation(
    summary="Liveness",
    description="200 as long as the process runs; never touches the database. Restart the "
    "process when it fails.",
    replies={200: Reply("The process is alive.", Liveness)},
)

READYZ = Operation(
    summary="Readiness",
    description=f"200 when the database answers a trivial query within "
    f"{READY_TIMEOUT_SECONDS} s, 503 otherwise: stop sending traffic, do not restart.",
    replies={
        200: Reply("Ready.", Readiness),
        503: Reply("The database cannot answer now.", Readiness),
    },
)
