"""Verification beside the dashboard, in one process: verification's latency while 4 clients
list keys over GraphQL (each sending its next listing when the last one answered), against the
same verification load with nothing else running. Rounds alternate idle and mixed, so a change
in the machine's load moves both sides of a pair; the headline is the median of the pairs'
p99 ratios (mixed / idle), with their spread. Goal: ≤ 1.5× idle.

Verification comes from wrk's 32 connections where wrk is installed (as issue 18 measured
it: the process saturated, so the ratio compares its queue at capacity with and without the
listings, and req/s shows the capacity they take), else from the open-loop generator at a fixed
rate (`mixed_rate`) below capacity, each latency from its scheduled start, so p99 shows how long
a request waits behind the listings' executions. The listing clients are closed-loop: a second
wrk with 4 connections where wrk is installed, else the open-loop generator's `--closed` (a
Python client: on a 2-core machine its own CPU, parsing 24 KB answers, competes with the server
it measures, so the ratio reads worse without wrk).
"""

from __future__ import annotations

import argparse
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench import load, procs

GOAL_RATIO = 1.5
LISTING_CLIENTS = 4
# The listing clients start this long before verification and stop this long after it.
LEAD_SECONDS = 0.5


def measure(
    db: str, cfg: dict[str, Any], work: Path, args: argparse.Namespace, server: procs.Server,
    verify_body: Path, list_body: Path, list_headers: dict[str, str],
) -> dict[str, Any]:
    verify_headers = {"Content-Type": "application/json"}
    runs: dict[str, list[dict[str, Any]]] = {"idle": [], "mixed": []}
    listings: list[dict[str, Any]] = []
    with ThreadPoolExecutor(max_workers=1) as pool:
        for round_ in range(-1, cfg["mixed_rounds"]):  # round -1 warms up
            for who in ("idle", "mixed"):
                seconds = cfg["warmup"] if round_ < 0 else cfg["seconds"]
                listing = None
                if who == "mixed":
                    listing = pool.submit(
                        load.run, base_url=server.url, path="/graphql", bodies_file=list_body,
                        headers=list_headers, seconds=seconds + 2 * LEAD_SECONDS, workdir=work,
                        rate=0.0, use_wrk=args.use_wrk, connections=LISTING_CLIENTS,
                        closed=True,
                    )
                    time.sleep(LEAD_SECONDS)
                figure = load.run(
                    base_url=server.url, path="/v1/keys/verify", bodies_file=verify_body,
                    headers=verify_headers, seconds=seconds, workdir=work,
                    rate=cfg["mixed_rate"], use_wrk=args.use_wrk,
                ).as_dict()
                if listing is not None:
                    listed = listing.result().as_dict()
                    figure["listing_rps"] = listed["rps"]
                    figure["listing_p50_ms"] = listed["p50_ms"]
                    if round_ >= 0:
                        listings.append(listed)
                if round_ >= 0:
                    runs[who].append(figure)
    pairs = sorted(
        m["p99_ms"] / i["p99_ms"] for m, i in zip(runs["mixed"], runs["idle"], strict=True)
        if i["p99_ms"]
    )
    ratio_p99 = statistics.median(pairs) if pairs else 0.0
    median = {who: sorted(rounds, key=lambda f: f["p99_ms"])[len(rounds) // 2]
              for who, rounds in runs.items()}
    ratio_rps = median["mixed"]["rps"] / median["idle"]["rps"] if median["idle"]["rps"] else 0.0
    errors = sum(f["errors"] for rounds in runs.values() for f in rounds)
    return {
        "db": db,
        "path": f"verify p99 with {LISTING_CLIENTS} clients listing keys (keyward) vs idle "
                "(baseline)",
        "kind": "mixed",
        "keyward": {**median["mixed"], "rounds": runs["mixed"]},
        "baseline": {**median["idle"], "rounds": runs["idle"]},
        "ratio_rps": ratio_rps, "ratio_p99": ratio_p99, "pair_ratios_p99": pairs,
        "listing_rps_median": statistics.median(x["rps"] for x in listings) if listings else 0.0,
        "verify_rate": cfg["mixed_rate"],
        "goal": f"≤{GOAL_RATIO}× idle p99 (median pair)",
        "met": "yes" if 0 < ratio_p99 <= GOAL_RATIO else "NO",
        **({"note": f"{errors} failed requests"} if errors else {}),
    }
