"""The jobs' metrics after a run, in the API process and from the worker's own `/metrics`."""

from __future__ import annotations

import asyncio
import signal
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import unused_port

from jobs.runner import JobRunner
from settings import Settings
from tests.harness import ON_POSTGRES, Api, Clock, postgres_execute, run_apart
from tests.jobs_support import server_env, worker_start
from tests.metrics_support import delta, metrics_app, parse, scrape, value
from web.state import DATABASE

RUNS = "keyward_job_runs_total"


@pytest.fixture
def app(settings: Settings, clock: Clock) -> web.Application:
    return metrics_app(settings, clock)


async def test_job_metrics_after_a_run(
    api: Api, app: web.Application, settings: Settings, clock: Clock
) -> None:
    # given two keys that have expired, and a scrape before
    account = await api.sign_up()
    for _ in range(2):
        await api.create_key(account, expiresAt="2030-01-01T12:01:00Z")
    clock.advance(minutes=2)
    before = await scrape(api.client)
    # when the purge runs once, then once more with nothing to do
    runner = JobRunner(settings=settings, database=app[DATABASE], clock=clock)
    first = await runner.run_now("purge-expired", wait_seconds=0)
    second = await runner.run_now("purge-expired", wait_seconds=0)
    after = await scrape(api.client)
    # then
    assert first is not None and first.counts["api_keys"] == 2 and second is not None
    assert delta(before, after, RUNS, job="purge-expired", result="success") == 2
    assert delta(before, after, RUNS, job="purge-expired", result="failure") == 0
    assert delta(before, after, "keyward_job_rows_total", job="purge-expired", kind="api_keys") == 2
    assert delta(before, after, "keyward_job_duration_seconds_count", job="purge-expired") == 2
    last = value(after, "keyward_job_last_success_timestamp_seconds", job="purge-expired")
    assert last == clock.now.timestamp()


async def test_a_failed_run_is_counted(
    api: Api, app: web.Application, settings: Settings, clock: Clock, monkeypatch: Any
) -> None:
    # given a job that fails
    import jobs.housekeeping as housekeeping

    async def broken(env: object) -> dict[str, int]:
        raise RuntimeError("broken")

    monkeypatch.setitem(housekeeping.JOBS, "expire-rolled", broken)
    before = await scrape(api.client)
    # when
    runner = JobRunner(settings=settings, database=app[DATABASE], clock=clock)
    with pytest.raises(RuntimeError):
        await runner.run_now("expire-rolled", wait_seconds=0)
    after = await scrape(api.client)
    # then
    assert delta(before, after, RUNS, job="expire-rolled", result="failure") == 1
    assert delta(before, after, RUNS, job="expire-rolled", result="success") == 0


def test_the_worker_serves_its_own_metrics(database_url: str) -> None:
    # given a worker ticking every second, with METRICS_PORT (and no lease left by other tests
    # of this run on the shared PostgreSQL schema: their clock is years ahead)
    if ON_POSTGRES:
        run_apart(postgres_execute(database_url, "DELETE FROM job_lease"))
    port = unused_port()
    env = server_env(database_url, JOBS_INTERVAL_SECONDS="1", METRICS_PORT=str(port))
    process, _ = worker_start(env)

    async def scrape_until_a_run() -> dict[Any, float]:
        async with aiohttp.ClientSession() as session:
            for _ in range(50):  # at most ~10 s: two runs a second are expected
                async with session.get(f"http://127.0.0.1:{port}/metrics") as response:
                    assert response.status == 200
                    samples = parse(await response.text())
                if value(samples, RUNS, job="expire-rolled", result="success") >= 1:
                    return samples
                await asyncio.sleep(0.2)
        raise AssertionError("no successful run in the worker's metrics")

    try:
        samples = asyncio.run(scrape_until_a_run())
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=20)
    # then its runs, its pool and its process are there, and no HTTP figures of an API
    assert value(samples, "keyward_job_last_success_timestamp_seconds", job="expire-rolled") > 0
    assert value(samples, "keyward_db_pool_connections", state="max") >= 1
    assert value(samples, "process_resident_memory_bytes") > 0
