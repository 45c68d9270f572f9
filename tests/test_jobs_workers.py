"""Three `python server.py worker` processes on one database, one-second interval: every due row
is handled, once, within a generous deadline, and no job ever runs twice at once or twice in one
interval. Judged by outcomes (rows and the workers' log lines), not by counting slots: a loaded
machine may miss a tick, and a missed tick is not a fault as long as the rows get handled.

The default suite feeds them rows for 10 seconds; KEYWARD_WORKERS_SECONDS=60 gives the full minute.
On SQLite (the default pass) the workers share one file; with TEST_DATABASE_URL, PostgreSQL.
"""

from __future__ import annotations

import asyncio
import math
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from models.clock import utcnow
from models.database import database_entered
from models.entities import ApiKey
from settings import Settings
from tests.jobs_support import ROOT, database_emptied, keys_make, organization_make, server_env

WORKERS = 3
SECONDS = int(os.environ.get("KEYWARD_WORKERS_SECONDS", "10"))
# How long a due row may wait: the jobs tick every second, so this allows for many missed
# ticks on a loaded machine while still catching a job that stopped running.
DEADLINE_SECONDS = 30.0
ROWS_PER_WAVE = 40
RETENTION = timedelta(hours=1)
RUN_LINE = re.compile(
    r"job=(?P<job>\S+) (?P<counts>.*)duration_ms=(?P<ms>[\d.]+) started_at=(?P<at>\S+)"
    r" .*holder=(?P<holder>\S+)"
)
COUNT = re.compile(r"(?P<name>\w+)=(?P<count>\d+) ")


@dataclass(frozen=True)
class Run:
    job: str
    counts: dict[str, int]
    start: float
    end: float
    holder: str


def _runs(logs: list[Path]) -> list[Run]:
    runs = []
    for log in logs:
        for match in RUN_LINE.finditer(log.read_text()):
            start = datetime.fromisoformat(match["at"]).timestamp()
            end = start + float(match["ms"]) / 1000
            counts = {m["name"]: int(m["count"]) for m in COUNT.finditer(match["counts"])}
            runs.append(Run(match["job"], counts, start, end, match["holder"]))
    return sorted(runs, key=lambda run: run.start)


async def _handled_within(deadline: float, ids: list[uuid.UUID], expired: list[uuid.UUID]) -> bool:
    """Whether, before `deadline`, every rolled key in `ids` got marked expired and every key in
    `expired` got purged (polled: the subject is other processes on the real clock)."""
    while time.monotonic() < deadline:
        if not (
            await ApiKey.filter(id__in=ids, expired_at=None).exists()
            or await ApiKey.filter(id__in=expired).exists()
        ):
            return True
        await asyncio.sleep(0.1)
    return False


async def test_three_workers_handle_every_due_row_once(
    tmp_path: Path, settings: Settings, aiohttp_client: Any
) -> None:
    # given a database with keys that must stay as they are
    database = await database_emptied(settings, aiohttp_client)
    with database_entered(database):
        now = utcnow()
        organization = await organization_make(now=now)
        valid = await keys_make(organization, 5, created_at=now, expires_at=None)
        valid += await keys_make(
            organization, 5, created_at=now, expires_at=now + RETENTION, rolled_at=now
        )
        untouched = {key.id: (key.expires_at, key.expired_at) for key in valid}
    # and three workers on it, ticking every second
    env = server_env(
        settings.database_url,
        JOBS_INTERVAL_SECONDS="1",
        EXPIRED_KEY_RETENTION_SECONDS=str(int(RETENTION.total_seconds())),
    )
    logs = [tmp_path / f"worker-{index}.log" for index in range(WORKERS)]
    workers = [
        subprocess.Popen(
            [sys.executable, "server.py", "worker"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log.open("w"),
        )
        for log in logs
    ]
    rolled: list[uuid.UUID] = []
    expired: list[uuid.UUID] = []
    waits: list[float] = []
    try:
        started = time.monotonic() + 60
        while not all("worker started" in log.read_text() for log in logs):
            assert time.monotonic() < started, "the workers never started"
            assert all(worker.poll() is None for worker in workers)
            await asyncio.sleep(0.1)
        # when rows fall due, wave after wave, while they run side by side
        ends = time.monotonic() + SECONDS
        with database_entered(database):
            while time.monotonic() < ends:
                now = utcnow()
                wave_rolled = await keys_make(
                    organization,
                    ROWS_PER_WAVE,
                    created_at=now - 2 * RETENTION,
                    expires_at=now - timedelta(seconds=1),
                    rolled_at=now - RETENTION,
                )
                wave_expired = await keys_make(
                    organization,
                    ROWS_PER_WAVE,
                    created_at=now - 3 * RETENTION,
                    expires_at=now - 2 * RETENTION,
                )
                due = time.monotonic()
                # then each wave is handled well within the deadline
                assert await _handled_within(
                    due + DEADLINE_SECONDS,
                    [key.id for key in wave_rolled],
                    [key.id for key in wave_expired],
                ), f"a wave was not handled within {DEADLINE_SECONDS} s"
                waits.append(time.monotonic() - due)
                rolled += [key.id for key in wave_rolled]
                expired += [key.id for key in wave_expired]
            # and the keys that were not due are exactly as they were
            after = await ApiKey.filter(id__in=list(untouched))
            assert {key.id: (key.expires_at, key.expired_at) for key in after} == untouched
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        codes = [await asyncio.to_thread(worker.wait, 15) for worker in workers]
    # and they all stopped cleanly, no run failed
    assert codes == [0] * WORKERS, [log.read_text()[-2000:] for log in logs]
    assert not [log for log in logs if " failed error=" in log.read_text()]
    runs = _runs(logs)
    for job, counted, rows in (
        ("expire-rolled", "expired", rolled),
        ("purge-expired", "api_keys", expired),
    ):
        mine = [run for run in runs if run.job == job]
        # each due row was counted by exactly one run: none twice, none by no run
        assert sum(run.counts[counted] for run in mine) == len(rows), job
        # never two at once
        for earlier, later in zip(mine, mine[1:], strict=False):
            assert earlier.end <= later.start, (earlier, later)
        # never twice in one interval
        per_slot: dict[int, list[Run]] = defaultdict(list)
        for run in mine:
            per_slot[math.floor(run.start)].append(run)
        assert all(len(slot) == 1 for slot in per_slot.values()), per_slot
    holders = {run.holder for run in runs}
    print(
        f"{len(waits)} waves of {2 * ROWS_PER_WAVE} due rows, each handled within"
        f" {max(waits):.2f} s (median {sorted(waits)[len(waits) // 2]:.2f} s);"
        f" {len(runs)} runs by {len(holders)} workers"
    )
