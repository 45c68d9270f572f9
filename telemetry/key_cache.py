"""The verification cache's figures: lookups by result, read from the caches' own counters at
scrape time (the hot path pays nothing for them), and the revocation propagation delay heard by
this process, observed as each revocation arrives.

`keyward_key_cache_lookups_total{result}`: `hit` (a key answered from memory), `negative` (an
unknown token answered from memory), `miss` (read from the database, then kept), `bypass` (read
from the database because the cache cannot hear revocations now).
`keyward_revocation_propagation_seconds`: from a change's commit in another process (its time
travels in the notification) to its eviction here.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import Histogram
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from models.key_cache import PROPAGATION_OBSERVERS, key_cache_lookups
from telemetry.metrics import RECORDING, REGISTRY

LOOKUP_RESULTS = ("hit", "miss", "negative", "bypass")
# The promise is milliseconds (goal: p99 ≤ 20 ms); the tail up to the 60 s safety bound.
PROPAGATION_BUCKETS = (
    0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 60.0,
)  # fmt: skip

REVOCATION_PROPAGATION = Histogram(
    "keyward_revocation_propagation_seconds",
    "Time from a key change's commit in another process to its eviction from this process's "
    "verification cache.",
    buckets=PROPAGATION_BUCKETS,
    registry=REGISTRY,
)


class _Lookups(Collector):
    def collect(self) -> Iterator[CounterMetricFamily]:
        family = CounterMetricFamily(
            "keyward_key_cache_lookups",
            "Verification cache lookups, by result (hit, miss, negative, bypass).",
            labels=["result"],
        )
        totals = key_cache_lookups()
        for result in LOOKUP_RESULTS:
            family.add_metric([result], totals[result])
        yield family


def _observed(seconds: float) -> None:
    if RECORDING.on:
        REVOCATION_PROPAGATION.observe(seconds)


REGISTRY.register(_Lookups())
PROPAGATION_OBSERVERS.append(_observed)
