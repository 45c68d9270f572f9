"""Three `python server.py worker` processes on one database, one-second interval: each job runs
once per interval, never two at once. The runs are read back from the workers' log lines.

The default suite watches them for 10 seconds; KEYWARD_WORKERS_SECONDS=60 gives the full minute.
On SQLite (the default pass) the workers share one file; with TEST_DATABASE_URL, PostgreSQL.
"""

from __future__ import annotations

import math
import os
import re
import signal
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from tests.jobs_support import ROOT, server_env

WORKERS = 3
SECONDS = int(os.environ.get("KEYWARD_WORKERS_SECONDS", "10"))
RUN_LINE = re.compile(
    r"job=(?P<job>\S+) .*duration_ms=(?P<ms>[\d.]+) started_at=(?P<at>\S+) .*holder=(?P<holder>\S+)"
)


@dataclass(frozen=True)
class Run:
    job: str
    start: float
    end: float
    holder: str


def _runs(logs: list[Path]) -> list[Run]:
    runs = []
    for log in logs:
        for match in RUN_LINE.finditer(log.read_text()):
            start = datetime.fromisoformat(match["at"]).timestamp()
            end = start + float(match["ms"]) / 1000
            runs.append(Run(match["job"], start, end, match["holder"]))
    return sorted(runs, key=lambda run: run.start)


def test_three_workers_run_each_job_once_per_interval(tmp_path: Path, database_url: str) -> None:
    # given three workers on one database, ticking every second
    env = server_env(database_url, JOBS_INTERVAL_SECONDS="1")
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
    try:
        deadline = time.monotonic() + 60
        while not all("worker started" in log.read_text() for log in logs):
            assert time.monotonic() < deadline, "the workers never started"
            assert all(worker.poll() is None for worker in workers)
            time.sleep(0.1)
        # when they run side by side
        began = time.time()
        time.sleep(SECONDS)
        ended = time.time()
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        codes = [worker.wait(timeout=15) for worker in workers]
    # then they all stopped cleanly
    assert codes == [0] * WORKERS, [log.read_text()[-2000:] for log in logs]
    runs = _runs(logs)
    slots = range(math.ceil(began), math.floor(ended))
    for job in ("expire-rolled", "purge-expired"):
        mine = [run for run in runs if run.job == job]
        # never two at once
        for earlier, later in zip(mine, mine[1:], strict=False):
            assert earlier.end <= later.start, (earlier, later)
        # never twice in one interval
        per_slot: dict[int, list[Run]] = defaultdict(list)
        for run in mine:
            per_slot[math.floor(run.start)].append(run)
        assert all(len(slot) == 1 for slot in per_slot.values()), per_slot
        # and once in every interval the workers were all up
        missed = [slot for slot in slots if slot not in per_slot]
        assert not missed, (job, missed, len(slots))
    holders = {run.holder for run in runs}
    print(f"{len(runs)} runs over {len(slots)} intervals by {len(holders)} workers")
