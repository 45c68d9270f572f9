"""Scraping `/metrics` in tests: the samples as prometheus-client's own parser reads them."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families

from server import create_app
from settings import Settings
from tests.harness import Clock

METRICS_TOKEN = "test-metrics-token-0123456789"

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


async def scrape_text(client: TestClient[Any, Any]) -> str:
    response = await client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert response.status == 200, await response.text()
    return await response.text()


async def scrape(client: TestClient[Any, Any]) -> Samples:
    return parse(await scrape_text(client))


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sample `name` with exactly `labels` (0 when absent)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def metrics_app(settings: Settings, clock: Clock, **extra: Any) -> web.Application:
    """The app with `/metrics` on its own port, for the bearer of `METRICS_TOKEN`."""
    return create_app(replace(settings, metrics_token=METRICS_TOKEN, **extra), clock=clock)
