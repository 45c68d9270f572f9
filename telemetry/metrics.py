"""Every Prometheus metric keyward exposes, defined once, in this process's own registry.

Names and units follow Prometheus's naming rules and OpenTelemetry's HTTP semantic conventions,
so dashboards and alerts written for other services read them as they are. No label ever holds
an id, an email, a user or a token: every label takes a value from a short fixed list (the
route *template*, an outcome, a job name), which keeps cardinality bounded and the scrape free
of anything personal.

Recording is off until `metrics_enable()` (called when the process exposes `/metrics`), so a
process nobody scrapes pays nothing. Each process has its own figures; Prometheus scrapes every
replica and sums.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections.abc import Iterable
from typing import Any, TypeVar

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
)
from prometheus_client.metrics_core import Metric

M = TypeVar("M", Counter, Gauge, Histogram)
REGISTRY = CollectorRegistry(auto_describe=True)
for _collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
    REGISTRY.register(_collector)


class _Recording:
    on = False


RECORDING = _Recording()

# The hot path's observations, held in plain Python (an append or an addition: no lock per
# request) and folded into their metrics before every collection and whenever `HELD_MAX` wait.
# prometheus-client takes a lock per bucket, sum and counter on each observation: ~2 µs of a
# verification's ~40 µs.
HELD_MAX = 4096
_held_seconds: dict[Any, list[float]] = {}
_held_counts: dict[Any, int] = {}
_fold_lock = threading.Lock()


def held_observe(histogram: Histogram, seconds: float) -> None:
    """`histogram.observe(seconds)` (a child with its labels), folded later."""
    values = _held_seconds.get(histogram)
    if values is None:
        values = _held_seconds[histogram] = []
    values.append(seconds)
    if len(values) >= HELD_MAX:
        metrics_fold()


def held_inc(counter: Counter) -> None:
    """`counter.inc()` (a child with its labels), folded later."""
    _held_counts[counter] = _held_counts.get(counter, 0) + 1


def metrics_fold() -> None:
    """Add what is held to the metrics: one addition per bucket, sum and counter."""
    with _fold_lock:
        for histogram, values in list(_held_seconds.items()):
            if values:
                _held_seconds[histogram] = []
                _histogram_add(histogram, values)
        counts = list(_held_counts.items())
        _held_counts.clear()
        for counter, count in counts:
            counter.inc(count)


def _histogram_add(histogram: Histogram, values: list[float]) -> None:
    """What `observe` does for each value (the first bucket whose bound is not below it), done
    once per bucket. prometheus-client has no public call for it: its histogram's buckets and
    sum (`tests/test_metrics.py` holds this to `observe`'s own result)."""
    bounds = histogram._upper_bounds
    per_bucket = [0] * len(bounds)
    for value in values:
        per_bucket[bisect_left(bounds, value)] += 1
    for bucket, count in zip(histogram._buckets, per_bucket, strict=True):
        if count:
            bucket.inc(count)
    histogram._sum.inc(sum(values))


class _Fold:
    """Registered before every metric: a collection folds what is held first."""

    def collect(self) -> Iterable[Metric]:
        metrics_fold()
        return []


REGISTRY.register(_Fold())


_CHILDREN: dict[tuple[int, tuple[str, ...]], Any] = {}


def child(metric: M, *values: str) -> M:
    """`metric.labels(*values)`, remembered: `labels()` validates and locks on every call, a
    cost the hot path should not pay per request. Label values come from fixed lists, so the
    cache stays small."""
    key = (id(metric), values)
    found = _CHILDREN.get(key)
    if found is None:
        found = _CHILDREN[key] = metric.labels(*values)
    return found


def metrics_enable() -> None:
    """Start recording in this process (idempotent): the process now exposes `/metrics`.
    Without the `_created` series prometheus-client adds to every counter and histogram: they
    double the scrape and no dashboard or rule here reads them."""
    disable_created_metrics()  # type: ignore[no-untyped-call]
    RECORDING.on = True


# OpenTelemetry's recommended buckets for http.server.request.duration, in seconds.
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
# Verification answers in about a millisecond; the 100 ms p99 alert needs resolution below it.
VERIFY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0)
# A job's run: milliseconds when there is nothing to do, seconds to minutes for a large purge.
JOB_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0)

HTTP_REQUEST_DURATION = Histogram(
    "http_server_request_duration_seconds",
    "Duration of HTTP server requests, by method, route template and status code.",
    ["method", "route", "status_code"],
    buckets=HTTP_BUCKETS,
    registry=REGISTRY,
)
KEY_VERIFICATIONS = Counter(
    "keyward_key_verifications",
    "Key verifications by final outcome (VALID, MALFORMED, NOT_FOUND, EXPIRED, or the problem "
    "the verify endpoint answered: BAD_REQUEST, CONTENT_TOO_LARGE, UNAVAILABLE, …) and key type.",
    ["outcome", "key_type"],
    registry=REGISTRY,
)
KEY_VERIFICATION_DURATION = Histogram(
    "keyward_key_verification_duration_seconds",
    "Time POST /v1/keys/verify took to answer, whatever the outcome.",
    buckets=VERIFY_BUCKETS,
    registry=REGISTRY,
)
GRAPHQL_OPERATIONS = Counter(
    "keyward_graphql_operations",
    "GraphQL operations by type (query, mutation, unknown) and result (ok, error, "
    "unauthenticated, limited).",
    ["operation_type", "result"],
    registry=REGISTRY,
)
SIGN_IN_FAILURES = Counter(
    "keyward_sign_in_failures",
    "Refused sign-ins by reason (invalid_credentials, too_many_attempts).",
    ["reason"],
    registry=REGISTRY,
)
JOB_RUNS = Counter(
    "keyward_job_runs",
    "Scheduled job runs by job and result (success, failure, skipped: another worker held it).",
    ["job", "result"],
    registry=REGISTRY,
)
JOB_DURATION = Histogram(
    "keyward_job_duration_seconds",
    "Duration of the job runs this process made.",
    ["job"],
    buckets=JOB_BUCKETS,
    registry=REGISTRY,
)
JOB_ROWS = Counter(
    "keyward_job_rows",
    "Rows a job changed, by job and kind (expired, api_keys, sessions, sign_in_attempts).",
    ["job", "kind"],
    registry=REGISTRY,
)
JOB_LAST_SUCCESS = Gauge(
    "keyward_job_last_success_timestamp_seconds",
    "Unix time at which this process last finished a run of the job successfully.",
    ["job"],
    registry=REGISTRY,
)
DATABASE_ERRORS = Counter(
    "keyward_database_errors",
    "Times the database could not answer (connection, timeout, resources, locked, other).",
    ["kind"],
    registry=REGISTRY,
)

VERIFICATION_OUTCOMES = ("VALID", "MALFORMED", "NOT_FOUND", "EXPIRED", "FORBIDDEN")
PROBLEM_OUTCOMES = {
    400: "BAD_REQUEST",
    413: "CONTENT_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "TOO_MANY_REQUESTS",
    500: "INTERNAL_ERROR",
    503: "UNAVAILABLE",
}
KEY_TYPES = ("PUBLIC", "SECRET", "UNKNOWN")
GRAPHQL_OPERATION_TYPES = ("query", "mutation", "unknown")
GRAPHQL_RESULTS = ("ok", "error", "unauthenticated", "limited")
SIGN_IN_REASONS = ("invalid_credentials", "too_many_attempts")
DATABASE_ERROR_KINDS = ("connection", "timeout", "resources", "locked", "other")
JOB_RESULTS = ("success", "failure", "skipped")


def _zero_series() -> None:
    """Create every known series at 0, so `rate()` and alerts see them before the first event."""
    for outcome in (*VERIFICATION_OUTCOMES, *PROBLEM_OUTCOMES.values()):
        for key_type in KEY_TYPES:
            KEY_VERIFICATIONS.labels(outcome, key_type)
    for operation_type in GRAPHQL_OPERATION_TYPES:
        for result in GRAPHQL_RESULTS:
            GRAPHQL_OPERATIONS.labels(operation_type, result)
    for reason in SIGN_IN_REASONS:
        SIGN_IN_FAILURES.labels(reason)
    for kind in DATABASE_ERROR_KINDS:
        DATABASE_ERRORS.labels(kind)


_zero_series()


def jobs_known(jobs: Iterable[str]) -> None:
    """Create the job series at 0 (the job names live in `jobs/`, which calls this)."""
    for job in jobs:
        for result in JOB_RESULTS:
            JOB_RUNS.labels(job, result)
        JOB_DURATION.labels(job)


def problem_outcome(status: int) -> str:
    """The verification outcome of an answer that is not a verification (a 4xx or 5xx)."""
    return PROBLEM_OUTCOMES.get(status, f"HTTP_{status}")


def verification_observed(outcome: str, key_type: str) -> None:
    if RECORDING.on:
        held_inc(child(KEY_VERIFICATIONS, outcome, key_type))


def sign_in_failed(reason: str) -> None:
    if RECORDING.on:
        SIGN_IN_FAILURES.labels(reason).inc()


def graphql_operation_observed(operation_type: str, result: str) -> None:
    if RECORDING.on:
        child(GRAPHQL_OPERATIONS, operation_type, result).inc()
