"""`GET /metrics`: this process's Prometheus metrics, never public by accident.

Two ways to expose it, both off by default:
- on the API port, only with `METRICS_TOKEN` set, to a scraper sending it as a bearer token
  (401 with any other credential; without the setting the route does not exist: 404);
- on a port of its own (`METRICS_PORT`, `--metrics-port`, bound to `METRICS_HOST`), with no
  credential (see `telemetry.exposition`): the operator exposes that port to the scraper's
  network only. The worker serves its own this way.
"""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from settings import Settings
from telemetry.exposition import METRICS_PATH, metrics_response, metrics_served
from telemetry.metrics import metrics_enable
from web.problems import problem
from web.state import SETTINGS


def _unauthorized() -> web.Response:
    return problem(
        401,
        "Unauthorized",
        "Send the METRICS_TOKEN setting's value as a bearer token.",
        headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
    )


async def metrics_with_token(request: web.Request) -> web.Response:
    """The API port's `/metrics`: only for the bearer of `METRICS_TOKEN`."""
    expected = request.app[SETTINGS].metrics_token
    scheme, _, offered = request.headers.get("Authorization", "").partition(" ")
    if (
        not expected
        or scheme.lower() != "bearer"
        or not hmac.compare_digest(offered.strip().encode(), expected.encode())
    ):
        return _unauthorized()
    return metrics_response(request)


def add_metrics(app: web.Application, settings: Settings) -> None:
    """Register `/metrics` on the API port when `METRICS_TOKEN` is set, and the separate
    metrics port when `METRICS_PORT` is; start recording when either is."""
    if settings.metrics_token:
        app.router.add_get(METRICS_PATH, metrics_with_token)
    if settings.metrics_port is not None:
        app.cleanup_ctx.append(metrics_port_context(settings.metrics_host, settings.metrics_port))
    if settings.metrics_enabled:
        metrics_enable()


def metrics_port_context(host: str, port: int) -> Callable[[web.Application], AsyncIterator[None]]:
    async def metrics_port(app: web.Application) -> AsyncIterator[None]:
        async with metrics_served(host, port):
            yield

    return metrics_port
