"""The command line: `jobs run` for operators, and the worker's clean stop on signals."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from models.clock import utcnow
from models.database import database_close, database_entered, database_open
from models.entities import ApiKey
from tests.harness import ON_POSTGRES
from tests.jobs_support import (
    ROOT,
    keys_make,
    organization_make,
    server_env,
    sessions_make,
    worker_start,
)

HOUR = timedelta(hours=1)


def server(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "server.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.skipif(ON_POSTGRES, reason="uses its own SQLite file (one backend per pytest run)")
async def test_jobs_run_prints_what_it_did(tmp_path: Path) -> None:
    # given a database with a rolled key past its grace, an expired key, a valid key, and an
    # ended session
    url = f"sqlite://{tmp_path / 'ops.sqlite3'}"
    now = utcnow()
    database = await database_open(url, create_schema=True)
    try:
        with database_entered(database):
            organization = await organization_make(now=now - 3 * HOUR)
            await keys_make(
                organization,
                1,
                created_at=now - 2 * HOUR,
                expires_at=now - HOUR,
                rolled_at=now - 2 * HOUR,
            )
            await keys_make(organization, 1, created_at=now - 2 * HOUR, expires_at=now - HOUR)
            valid = await keys_make(organization, 1, created_at=now - 2 * HOUR, expires_at=None)
            await sessions_make(now=now - 13 * HOUR, expires_at=now - HOUR, count=1)
    finally:
        await database_close(database)
    env = server_env(url)
    # when an operator runs each job once
    expired = server("jobs", "run", "expire-rolled", env=env)
    purged = server("jobs", "run", "purge-expired", env=env)
    again = server("jobs", "run", "purge-expired", env=env)
    # then each says what it did and succeeds
    assert expired.returncode == 0, expired.stderr
    assert expired.stdout.startswith("expire-rolled: 1 expired in "), expired.stdout
    assert purged.returncode == 0, purged.stderr
    assert purged.stdout.startswith(
        "purge-expired: 2 api keys, 1 sessions, 0 sign in attempts, 0 audit events, "
        "0 webhook deliveries in "
    ), purged.stdout
    assert again.stdout.startswith(
        "purge-expired: 0 api keys, 0 sessions, 0 sign in attempts, 0 audit events, "
        "0 webhook deliveries in "
    ), again.stdout
    assert (
        "job=purge-expired api_keys=2 sessions=1 sign_in_attempts=0 audit_events=0 "
        "webhook_deliveries=0 duration_ms=" in purged.stderr
    )
    database = await database_open(url)
    try:
        with database_entered(database):
            assert [key.id for key in await ApiKey.all()] == [valid[0].id]
    finally:
        await database_close(database)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_the_worker_stops_cleanly_on_a_signal(
    tmp_path: Path, database_url: str, signum: signal.Signals
) -> None:
    # given a running worker (on SQLite, or this run's PostgreSQL schema)
    worker, lines = worker_start(server_env(database_url, JOBS_INTERVAL_SECONDS="1"))
    time.sleep(1.5)
    # when it gets the signal
    sent = time.monotonic()
    worker.send_signal(signum)
    _, rest = worker.communicate(timeout=10)
    # then it stops within a few seconds, saying so, with status 0
    assert time.monotonic() - sent < 5
    assert worker.returncode == 0, "".join(lines) + rest
    assert "worker stopped" in rest
    assert "Traceback" not in rest
