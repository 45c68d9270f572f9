"""What recording metrics costs verification: the same verify load against two keyward
processes on the same database, one with metrics off (the default) and one with `/metrics` on
(METRICS_TOKEN set, so every request is timed and counted), rounds alternating, each side's best
round. Goal: metrics on within 5 % of off."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bench import load, procs

METRICS_TOKEN = "bench-metrics-token-0123456789"
GOAL_RATIO = 0.95


def measure(
    db: str, url: str, cfg: dict[str, Any], work: Path, args: argparse.Namespace,
    off: procs.Server, body_file: Path,
) -> dict[str, Any]:
    headers = {"Content-Type": "application/json"}
    env = {"METRICS_TOKEN": METRICS_TOKEN}
    with procs.keyward(url, work / f"keyward-metrics-{db}.log", env=env) as on:
        runs: dict[str, list[dict[str, Any]]] = {"off": [], "on": []}
        for round_ in range(-1, cfg["rounds"]):  # round -1 warms both up
            for who, server in (("off", off), ("on", on)):
                seconds = cfg["warmup"] if round_ < 0 else cfg["seconds"]
                cpu = server.cpu_seconds()
                figure = load.run(
                    base_url=server.url, path="/v1/keys/verify", bodies_file=body_file,
                    headers=headers, seconds=seconds, workdir=work, rate=cfg["rate"],
                    use_wrk=args.use_wrk,
                ).as_dict()
                figure["cpu_us_per_request"] = (
                    (server.cpu_seconds() - cpu) / max(figure["requests"], 1) * 1e6
                )
                if round_ >= 0:
                    runs[who].append(figure)
    # Other work shares the machine: each side's best round is its capacity; CPU per request
    # (the median round) is the figure least moved by that noise.
    best = {who: max(rounds, key=lambda f: f["rps"]) for who, rounds in runs.items()}
    for who, rounds in runs.items():
        cpu = sorted(f["cpu_us_per_request"] for f in rounds)
        best[who] = {**best[who], "cpu_us_per_request": cpu[len(cpu) // 2]}
    ratio_cpu = best["on"]["cpu_us_per_request"] / max(best["off"]["cpu_us_per_request"], 1e-9)
    # Each round of one side is paired with the other side's round next to it in time, so a
    # change in the machine's load moves both; the median pair is the headline figure.
    pairs = sorted(
        a["rps"] / b["rps"] for a, b in zip(runs["on"], runs["off"], strict=True) if b["rps"]
    )
    ratio_pairs = pairs[len(pairs) // 2] if pairs else 0.0
    ratio_rps = best["on"]["rps"] / best["off"]["rps"] if best["off"]["rps"] else 0.0
    ratio_p99 = best["on"]["p99_ms"] / best["off"]["p99_ms"] if best["off"]["p99_ms"] else 0.0
    errors = best["on"]["errors"] + best["off"]["errors"]
    return {
        "db": db, "path": "verify, metrics on (keyward) vs off (baseline)", "kind": "metrics",
        "keyward": {**best["on"], "rounds": runs["on"]},
        "baseline": {**best["off"], "rounds": runs["off"]},
        "ratio_rps": ratio_pairs, "ratio_best_rounds": ratio_rps, "ratio_p99": ratio_p99,
        "ratio_cpu": ratio_cpu, "pair_ratios": pairs,
        "goal": f"≥{GOAL_RATIO}× req/s (median pair)",
        "met": "yes" if ratio_pairs >= GOAL_RATIO else "NO",
        **({"note": f"{errors} failed requests"} if errors else {}),
    }
