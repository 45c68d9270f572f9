"""The one table: every keyward figure beside its baseline from the same run, the ratio, the
goal and whether it was met."""

from __future__ import annotations

from typing import Any


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def table(rows: list[dict[str, Any]]) -> str:
    header = (
        "| db | path | keyward req/s | p50 / p99 ms | baseline req/s | p50 / p99 ms "
        "| ratio req/s | ratio p99 | CPU µs/req (k / b) | goal | met |"
    )
    lines = [header, "|" + "---|" * 11]
    for row in rows:
        k, b = row.get("keyward"), row.get("baseline")
        if row.get("kind") == "purge" and "seconds" in row:
            lines.append(
                f"| {row['db']} | {row['path']} | {_fmt(row.get('seconds'), 2)} s "
                f"| +{_fmt(row.get('peak_rss_mb'))} MB | {_fmt(row.get('baseline_seconds'), 2)} s "
                f"| - | {_fmt(row.get('ratio_time'), 2)}× time "
                f"| {_fmt(row.get('ratio_p99_during'), 2)}× idle | "
                f"| {row['goal']} | {row['met']} |"
            )
            continue
        if row.get("kind") == "revocation":
            internal = (f"; in B, commit → eviction {_fmt(row.get('internal_p50_ms'), 2)} / "
                        f"{_fmt(row.get('internal_p99_ms'), 2)} ms")
            lines.append(
                f"| {row['db']} | {row['path']} | first refusal p50 / p99 / max "
                f"| {_fmt(row['p50_ms'], 2)} / {_fmt(row['p99_ms'], 2)} / "
                f"{_fmt(row['max_ms'], 2)} ms{internal} | | | | | | {row['goal']} | {row['met']} |"
            )
            continue
        if not k or not b:
            lines.append(f"| {row['db']} | {row['path']} | {row.get('note', 'not done')} "
                         f"| | | | | | | {row['goal']} | {row['met']} |")
            continue
        lines.append(
            f"| {row['db']} | {row['path']} | {_fmt(k['rps'], 0)} "
            f"| {_fmt(k['p50_ms'], 2)} / {_fmt(k['p99_ms'], 2)} | {_fmt(b['rps'], 0)} "
            f"| {_fmt(b['p50_ms'], 2)} / {_fmt(b['p99_ms'], 2)} | {_fmt(row['ratio_rps'], 2)}× "
            f"| {_fmt(row['ratio_p99'], 2)}× "
            f"| {_fmt(k.get('cpu_us_per_request'), 0)} / {_fmt(b.get('cpu_us_per_request'), 0)} "
            f"| {row['goal']} | {row['met']} |"
        )
    return "\n".join(lines)


def judge(path: str, keyward: dict[str, Any], baseline: dict[str, Any]) -> dict[str, Any]:
    ratio_rps = keyward["rps"] / baseline["rps"] if baseline["rps"] else 0.0
    ratio_p99 = keyward["p99_ms"] / baseline["p99_ms"] if baseline["p99_ms"] else 0.0
    if path in ("verify-warm", "verify-warm-workers"):  # keys in use: the cache answers
        goal, met = "≥2.0× req/s, ≤0.75× p99", ratio_rps >= 2.0 and ratio_p99 <= 0.75
    elif path.startswith("verify"):
        goal, met = "≥0.8× req/s, ≤1.5× p99", ratio_rps >= 0.8 and ratio_p99 <= 1.5
    elif path == "list":
        goal, met = "≥0.3× req/s", ratio_rps >= 0.3
    else:
        goal, met = "report", None
    errors = keyward["errors"] + baseline["errors"]
    return {
        "ratio_rps": ratio_rps,
        "ratio_p99": ratio_p99,
        "goal": goal,
        "met": "n/a" if met is None else ("yes" if met else "NO"),
        **({"note": f"{errors} failed requests"} if errors else {}),
    }
