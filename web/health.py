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
from models.key_cache import key_cache_report
from telemetry.database import database_error_observed
from web.rest import Operation, Reply
from web.shapes import describe, to_json

# A readiness probe must answer before the orchestrator's own timeout (often 1 s).
READY_TIMEOUT_SECONDS = 0.8


@dataclass(frozen=True)
class Liveness:
    """The process is running."""

    status: Literal["ok"] = field(metadata=describe("Always `ok`."))
    key_cache: Literal["listening", "bypass", "off"] = field(
        metadata=describe(
            "The verification cache: `listening` (answers from memory, hears every revocation), "
            "`bypass` (cannot hear revocations now: every verification asks the database) or "
            "`off` (KEY_CACHE_SIZE=0)."
        )
    )
    key_cache_entries: int = field(metadata=describe("Keys (and unknown tokens) held now."))
    key_cache_hits: int = field(metadata=describe("Verifications answered from memory."))
    key_cache_misses: int = field(metadata=describe("Verifications that read the database."))
    key_cache_negatives: int = field(
        metadata=describe("Unknown tokens answered from memory (kept 2 s by default).")
    )
    key_cache_bypasses: int = field(
        metadata=describe("Verifications that skipped the cache because it could not hear.")
    )
    revocations_heard: int = field(
        metadata=describe("Revocations from other processes applied to this cache.")
    )
    revocation_propagation_p50_ms: float | None = field(
        metadata=describe("Median time from a revocation's commit elsewhere to its eviction here.")
    )
    revocation_propagation_p99_ms: float | None = field(
        metadata=describe("99th percentile of the same, over the last 4,096 revocations heard.")
    )


@dataclass(frozen=True)
class Readiness:
    """Whether this process can serve requests now."""

    status: Literal["ready", "unavailable"] = field(
        metadata=describe("`ready` when the database answered in time, `unavailable` if not.")
    )


async def healthz(request: web.Request) -> web.Response:
    """Alive, with the verification cache's state and counters (this process's own)."""
    report = key_cache_report()
    return web.json_response(to_json(Liveness(status="ok", **report)))


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
