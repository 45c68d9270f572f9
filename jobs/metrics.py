"""The jobs' metrics: every run counted by result, its duration, the rows it changed, and when
the job last succeeded in this process (the alert on a job that stopped succeeding reads it)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from models.database import database_unavailable
from telemetry.database import database_error_observed
from telemetry.metrics import (
    JOB_DURATION,
    JOB_LAST_SUCCESS,
    JOB_ROWS,
    JOB_RUNS,
    RECORDING,
    jobs_known,
)


def jobs_observed(jobs: Iterable[str]) -> None:
    """Every job's series exist (at 0) from the start."""
    jobs_known(jobs)


def job_skipped(job: str) -> None:
    if RECORDING.on:
        JOB_RUNS.labels(job, "skipped").inc()


def job_succeeded(
    job: str, *, seconds: float, counts: Mapping[str, int], finished_at: datetime
) -> None:
    if not RECORDING.on:
        return
    JOB_RUNS.labels(job, "success").inc()
    JOB_DURATION.labels(job).observe(seconds)
    for kind, rows in counts.items():
        JOB_ROWS.labels(job, kind).inc(rows)
    JOB_LAST_SUCCESS.labels(job).set(finished_at.timestamp())


def job_failed(job: str, *, seconds: float, error: BaseException) -> None:
    if not RECORDING.on:
        return
    JOB_RUNS.labels(job, "failure").inc()
    JOB_DURATION.labels(job).observe(seconds)
    if database_unavailable(error):
        database_error_observed(error)
