"""The purge row: `api_keys_purge_expired` in a worker process against one `DELETE … WHERE
expires_at <= now` in the database's own shell (sqlite3 / psql), on the same number of expired
rows; the worker's peak memory growth; and verification's p99 on keyward while the purge runs.

The expired rows are written with the raw driver: the domain rightly refuses to create a key
that is already expired, and a million creates would take longer than the whole benchmark.
`python -m bench.purge --database URL` is the worker: it prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import secrets
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from bench import load
from bench.procs import ROOT, Server

GOAL = "≤1.5× time, +≤50 MB, p99 ≤2× idle"
# Verification load while the purge runs comes in slices this long, so its p99 is measured
# over the purge itself rather than diluted by the quiet after it.
SLICE_SECONDS = 1
MAX_SLICES = 10


def _rows(organization_id: str, count: int, now: datetime) -> list[tuple[Any, ...]]:
    expired = now - timedelta(days=1)
    return [
        (uuid.uuid4(), f"expired {n}", "SECRET", False,
         hashlib.sha256(secrets.token_bytes(16)).hexdigest(), "sk_xxxx", None,
         expired - timedelta(days=30), expired, organization_id)
        for n in range(count)
    ]


_COLUMNS = ("id", "name", "type", "is_default", "digest", "start", "token", "created_at",
            "expires_at", "organization_id")


async def _insert_postgres(url: str, rows: list[tuple[Any, ...]]) -> None:
    connection = await asyncpg.connect(url)
    try:
        records = [(*r[:9], uuid.UUID(r[9])) for r in rows]
        await connection.copy_records_to_table("api_key", records=records, columns=_COLUMNS)
        await connection.execute("ANALYZE api_key")
    finally:
        await connection.close()


def insert_expired(url: str, organization_id: str, count: int) -> None:
    now = datetime.now(UTC)
    rows = _rows(organization_id, count, now)
    if url.startswith("sqlite://"):
        with sqlite3.connect(url.removeprefix("sqlite://")) as connection:
            connection.executemany(
                f"INSERT INTO api_key ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * 10)})",
                [(str(r[0]), *r[1:7], r[7].isoformat(" "), r[8].isoformat(" "), r[9])
                 for r in rows],
            )
    else:
        asyncio.run(_insert_postgres(url, rows))


def delete_in_shell(url: str) -> float:
    """Seconds for one DELETE of every expired key in sqlite3 / psql (process start included);
    through the raw driver where that shell is not installed."""
    now = datetime.now(UTC).isoformat(" ")
    sql = f"DELETE FROM api_key WHERE expires_at <= '{now}'"
    sqlite = url.startswith("sqlite://")
    shell = "sqlite3" if sqlite else "psql"
    began = time.perf_counter()
    if shutil.which(shell) is None:
        if sqlite:
            with sqlite3.connect(url.removeprefix("sqlite://")) as connection:
                connection.execute("PRAGMA foreign_keys=ON")
                connection.execute(sql)
        else:
            asyncio.run(_execute_postgres(url, sql))
    elif sqlite:
        subprocess.run([shell, url.removeprefix("sqlite://"), f"PRAGMA foreign_keys=ON; {sql};"],
                       check=True, capture_output=True)
    else:
        subprocess.run([shell, "-q", "-v", "ON_ERROR_STOP=1", url, "-c", sql],
                       check=True, capture_output=True)
    return time.perf_counter() - began


async def _execute_postgres(url: str, sql: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


# Without an index on api_key.replaced_by_id, every deleted row makes the database scan the
# table for rows whose `replaced_by` must become NULL (ON DELETE SET NULL): the purge grows as
# rows × table size. The row is then measured on this many keys so the run stays bounded.
UNINDEXED_COUNT = 500


def replaced_by_indexed(url: str) -> bool:
    if url.startswith("sqlite://"):
        with sqlite3.connect(url.removeprefix("sqlite://")) as connection:
            names = [r[1] for r in connection.execute("PRAGMA index_list(api_key)")]
            return any(
                [c[2] for c in connection.execute(f"PRAGMA index_info('{name}')")][:1]
                == ["replaced_by_id"]
                for name in names
            )

    async def query() -> bool:
        connection = await asyncpg.connect(url)
        try:
            defs = await connection.fetch(
                "SELECT indexdef FROM pg_indexes WHERE tablename = 'api_key'"
            )
        finally:
            await connection.close()
        return any("(replaced_by_id" in d["indexdef"] for d in defs)

    return asyncio.run(query())


def _p99_slices(server: Server, verify_bodies: Path, work: Path, use_wrk: bool,
               while_running: Callable[[], bool] | None, slices: int) -> list[float]:
    """Each slice's p99, in order."""
    p99s: list[float] = []
    for _ in range(slices if while_running is None else MAX_SLICES):
        if while_running is not None and not while_running():
            break
        figure = load.run(base_url=server.url, path="/v1/keys/verify", bodies_file=verify_bodies,
                          headers={"Content-Type": "application/json"}, seconds=SLICE_SECONDS,
                          workdir=work, rate=500.0, use_wrk=use_wrk)
        p99s.append(figure.p99_ms)
    return p99s


def measure(db: str, url: str, count: int, organization_id: str, work: Path, keyward: Server,
            use_wrk: bool) -> dict[str, Any]:
    row: dict[str, Any] = {"db": db, "path": f"purge-expired ({count:,} keys)", "kind": "purge",
                           "goal": GOAL}
    try:
        from models.housekeeping import api_keys_purge_expired  # noqa: F401
    except ImportError:
        return {**row, "kind": "pending", "met": "-",
                "note": "not done: models.housekeeping.api_keys_purge_expired is missing"}
    if not replaced_by_indexed(url):
        count = min(count, UNINDEXED_COUNT)
        row["path"] = f"purge-expired ({count:,} keys)"
        row["note"] = "no index on api_key.replaced_by_id: each delete scans the table"
    verify_bodies = work / "verify.txt"
    idle_slices = _p99_slices(keyward, verify_bodies, work, use_wrk, None, 3)
    idle_p99 = max(idle_slices)
    insert_expired(url, organization_id, count)
    worker = subprocess.Popen([sys.executable, "-m", "bench.purge", "--database", url], cwd=ROOT,
                              stdout=subprocess.PIPE, text=True)
    during_slices = _p99_slices(keyward, verify_bodies, work, use_wrk,
                                lambda: worker.poll() is None, 0)
    during_p99 = max(during_slices, default=0.0)
    out, _ = worker.communicate(timeout=1800)
    if worker.returncode != 0:
        return {**row, "met": "-", "note": "the purge worker failed"}
    result = json.loads(out.splitlines()[-1])
    insert_expired(url, organization_id, count)
    baseline_seconds = delete_in_shell(url)
    # For reference, not the goal's baseline: the same single DELETE under the same
    # verification load, with verification's p99 meanwhile. What no batching can beat.
    insert_expired(url, organization_id, count)
    loaded: list[float] = []
    shell = threading.Thread(target=lambda: loaded.append(delete_in_shell(url)))
    shell.start()
    loaded_slices = _p99_slices(keyward, verify_bodies, work, use_wrk, shell.is_alive, 0)
    shell.join()
    ratio_time = result["seconds"] / baseline_seconds
    ratio_p99 = during_p99 / idle_p99 if idle_p99 else 0.0
    met = (ratio_time <= 1.5 and result["peak_rss_growth_mb"] <= 50 and ratio_p99 <= 2
           and result["deleted"] == count)
    return {**row, "seconds": result["seconds"], "deleted": result["deleted"],
            "peak_rss_mb": result["peak_rss_growth_mb"], "baseline_seconds": baseline_seconds,
            "ratio_time": ratio_time, "idle_p99_ms": idle_p99, "during_p99_ms": during_p99,
            "ratio_p99_during": ratio_p99, "idle_p99_slices_ms": idle_slices,
            "during_p99_slices_ms": during_slices,
            "single_delete_under_load_seconds": loaded[0] if loaded else None,
            "single_delete_under_load_p99_slices_ms": loaded_slices,
            "met": "yes" if met else "NO"}


def _memory_kib(field: str) -> int:
    line = next(x for x in Path("/proc/self/status").read_text().splitlines()
                if x.startswith(field + ":"))
    return int(line.split()[1])


async def _purge(url: str) -> dict[str, Any]:
    from models import housekeeping
    from models.database import database_close, database_open
    from models.housekeeping import api_keys_purge_expired

    # Tuning experiments: KEYWARD_BENCH_PURGE_TUNE='{"PURGE_SQLITE_TARGET_SECONDS": 0.05}'.
    for name, value in json.loads(os.environ.get("KEYWARD_BENCH_PURGE_TUNE", "{}")).items():
        setattr(housekeeping, name, value)

    ctx = await database_open(url)
    try:
        with ctx:
            before = _memory_kib("VmRSS")
            began = time.perf_counter()
            deleted = await api_keys_purge_expired(now=datetime.now(UTC), retention_seconds=0)
            seconds = time.perf_counter() - began
            peak = _memory_kib("VmHWM")
    finally:
        await database_close(ctx)
    return {"deleted": deleted, "seconds": seconds,
            "peak_rss_growth_mb": max(0, peak - before) / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.purge")
    parser.add_argument("--database", required=True)
    args = parser.parse_args()
    os.chdir(ROOT)
    print(json.dumps(asyncio.run(_purge(args.database))))


if __name__ == "__main__":
    main()
