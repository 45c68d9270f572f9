"""The purge row: waits for `models.housekeeping.api_keys_purge_expired` (another issue)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bench.procs import Server
from bench.seed import Seeded


def measure(db: str, url: str, cfg: dict[str, Any], work: Path, keyward: Server,
            seeded: Seeded, args: argparse.Namespace) -> dict[str, Any]:
    return {"db": db, "path": "purge-expired", "kind": "pending",
            "note": "not done: api_keys_purge_expired not there yet",
            "goal": "≤1.5× time, +≤50 MB, p99 ≤2× idle", "met": "-"}
