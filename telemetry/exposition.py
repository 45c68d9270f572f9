"""Serving the registry: the scrape response, and `/metrics` on a port of its own (the API's
`METRICS_PORT` and the worker's), without a credential: the operator binds that port where only
the scraper reaches it.

The text comes from prometheus-client's own encoder (OpenMetrics when the scraper asks for it).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web
from prometheus_client.exposition import choose_encoder

import telemetry.key_cache  # noqa: F401  (registers the verification cache's figures)
from telemetry.metrics import REGISTRY

METRICS_PATH = "/metrics"


def metrics_response(request: web.BaseRequest) -> web.Response:
    encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
    return web.Response(
        body=encoder(REGISTRY), headers={"Content-Type": content_type, "Cache-Control": "no-store"}
    )


async def _metrics_open(request: web.Request) -> web.Response:
    return metrics_response(request)


@asynccontextmanager
async def metrics_served(host: str, port: int) -> AsyncIterator[web.AppRunner]:
    """`/metrics` without a credential on `host:port`, while inside."""
    metrics_app = web.Application()
    metrics_app.router.add_get(METRICS_PATH, _metrics_open)
    runner = web.AppRunner(metrics_app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        yield runner
    finally:
        await runner.cleanup()
