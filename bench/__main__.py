"""`python -m bench [--quick]`: keyward's hot paths beside their physical limit, in one table.

For SQLite and (when a server answers at 127.0.0.1:5432) PostgreSQL: seed through the domain,
start keyward and the raw-driver baseline as subprocesses, drive each path from a separate
process (wrk, else an open-loop generator), and print every figure beside its baseline from the
same run. `--quick` only proves the harness works (small data, 2 s phases): CI runs it.
Results are saved as JSON under bench/results/.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import cache, load, metrics_cost, mixed, procs, purge, report
from bench.seed import Seeded, seed_in_subprocess

RESULTS = Path(__file__).resolve().parent / "results"

LIST_QUERY = """query Keys { organization { apiKeys(first: 50) { totalCount
  pageInfo { hasNextPage endCursor }
  edges { cursor node { id name type status isDefault start token createdAt expiresAt rolledAt
    lastUsedAt replacedBy { id name start } } } } } }"""
CREATE_MUTATION = """mutation Create($input: CreateApiKeyInput!) { createApiKey(input: $input) {
  __typename ... on ApiKeyCreated { token apiKey { id start createdAt } } } }"""

MODES = {
    "quick": {"organizations": 2, "keys_per_organization": 300, "listing_keys": 600,
              "rolled": 30, "seconds": 2.0, "warmup": 0.5, "rounds": 1, "warm_keys": 200,
              "rate": 200.0, "trials": 20, "mixed_rate": 150.0, "mixed_rounds": 1,
              "metrics_rounds": 1,
              "purge": {"sqlite": 1_000, "postgres": 2_000}},
    "full": {"organizations": 10, "keys_per_organization": 9_000, "listing_keys": 10_000,
             "rolled": 100, "seconds": 5.0, "warmup": 2.0, "rounds": 2, "warm_keys": 3_000,
             "rate": 1_000.0, "trials": 200, "mixed_rate": 300.0, "mixed_rounds": 4,
             "metrics_rounds": 8,
             "purge": {"sqlite": 100_000, "postgres": 1_000_000}},
}


def machine() -> dict[str, Any]:
    model = next((line.split(":", 1)[1].strip() for line in
                  Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    return {"nproc": os.cpu_count(), "cpu": model, "loadavg_at_start": os.getloadavg(),
            "python": platform.python_version(), "platform": platform.platform()}


def _post(url: str, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json", **headers})
    with urllib.request.urlopen(request, timeout=10) as response:
        return dict(json.loads(response.read()))


def _check(seeded: Seeded, keyward: str, baseline: str, auth: dict[str, str]) -> None:
    """One request of each kind, so a broken endpoint fails the run instead of timing errors."""
    token = seeded.tokens[0]
    ours = _post(keyward + "/v1/keys/verify", {"key": token}, {})
    theirs = _post(baseline + "/v1/keys/verify", {"key": token}, {})
    if ours != theirs:
        raise SystemExit(f"verify differs: keyward {ours} baseline {theirs}")
    listed = _post(keyward + "/graphql", {"query": LIST_QUERY}, auth)
    if "errors" in listed or len(listed["data"]["organization"]["apiKeys"]["edges"]) != 50:
        raise SystemExit(f"listing failed: {str(listed)[:500]}")
    raw = _post(baseline + "/keys", {}, auth)["data"]["organization"]["apiKeys"]
    if [e["node"]["id"] for e in raw["edges"]] != [
        e["node"]["id"] for e in listed["data"]["organization"]["apiKeys"]["edges"]
    ]:
        raise SystemExit("the baseline's page differs from keyward's")
    created = _post(keyward + "/graphql", {"query": CREATE_MUTATION,
                                           "variables": {"input": {"name": "check"}}}, auth)
    if created.get("data", {}).get("createApiKey", {}).get("__typename") != "ApiKeyCreated":
        raise SystemExit(f"createApiKey failed: {created}")


def _profile(server: procs.Server, seconds: float, out: Path) -> subprocess.Popen[bytes]:
    assert server.process is not None
    return subprocess.Popen(
        ["py-spy", "record", "--pid", str(server.process.pid),
         "--duration", str(max(1, int(seconds))), "--format", "raw", "--rate", "200",
         "--output", str(out)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def run_backend(db: str, url: str, cfg: dict[str, Any], work: Path, args: argparse.Namespace,
                ) -> list[dict[str, Any]]:
    print(f"[{db}] seeding through the domain…", file=sys.stderr, flush=True)
    seeded = seed_in_subprocess(url, work / f"seed-{db}.json",
                                organizations=cfg["organizations"],
                                keys_per_organization=cfg["keys_per_organization"],
                                listing_keys=cfg["listing_keys"], rolled=cfg["rolled"])
    print(f"[{db}] {seeded.total_keys:,} keys in {seeded.seconds:.1f} s", file=sys.stderr,
          flush=True)
    auth = {"Authorization": f"Bearer {seeded.secret_token}"}
    (work / "credential.json").write_text(json.dumps(auth))  # for profiling by hand (--keep)
    json_headers = {"Content-Type": "application/json"}
    bodies = {
        "verify": work / "verify.txt",
        "list": work / "list.txt",
        "create": work / "create.txt",
    }
    bodies["verify"].write_text("".join(json.dumps({"key": t}) + "\n" for t in seeded.tokens))
    # The same mix on few enough keys that the warm-up uses each: lastUsedAt is then fresh and
    # the rounds measure the lookup alone (the row above pays the first use's write).
    bodies["verify-warm"] = work / "verify-warm.txt"
    bodies["verify-warm"].write_text("".join(
        json.dumps({"key": t}) + "\n" for t in seeded.tokens[: cfg["warm_keys"]]))
    bodies["list"].write_text(json.dumps({"query": LIST_QUERY}) + "\n")
    bodies["create"].write_text(json.dumps(
        {"query": CREATE_MUTATION, "variables": {"input": {"name": "bench create"}}}) + "\n")
    paths = {  # name: (label, keyward path, baseline path, headers)
        "verify": ("POST /v1/keys/verify", "/v1/keys/verify", "/v1/keys/verify", json_headers),
        "verify-warm": ("… keys in use (cached)", "/v1/keys/verify", "/v1/keys/verify",
                        json_headers),
        "list": ("GraphQL apiKeys(first: 50)", "/graphql", "/keys", {**json_headers, **auth}),
        "create": ("createApiKey", "/graphql", "/create", {**json_headers, **auth}),
    }
    rows: list[dict[str, Any]] = []

    def measure(name: str, label: str, ours: procs.Server, theirs: procs.Server,
                previous: procs.Server | None, our_path: str, their_path: str,
                headers: dict[str, str]) -> dict[str, Any]:
        runs: dict[str, list[dict[str, Any]]] = {"baseline": [], "keyward": []}
        sides = {"baseline": (theirs, their_path), "keyward": (ours, our_path)}
        if previous is not None:
            runs["previous"] = []
            sides["previous"] = (previous, our_path)
        for round_ in range(-1, cfg["rounds"]):  # round -1 warms both up
            for who, (server, path) in sides.items():
                body_file = bodies[name.removesuffix("-off").removesuffix("-workers")]
                if who == "baseline" and name == "create":
                    body_file = work / "create-baseline.txt"
                    body_file.write_text('{"name": "bench create"}\n')
                seconds = cfg["warmup"] if round_ < 0 else cfg["seconds"]
                spy = None
                if args.profile and who == "keyward" and round_ == 0:
                    spy = _profile(server, seconds, work / f"profile-{db}-{name}.txt")
                cpu = server.cpu_seconds()
                figure = load.run(
                    base_url=server.url, path=path, bodies_file=body_file, headers=headers,
                    seconds=seconds, workdir=work, rate=cfg["rate"], use_wrk=args.use_wrk,
                ).as_dict()
                figure["cpu_us_per_request"] = (
                    (server.cpu_seconds() - cpu) / max(figure["requests"], 1) * 1e6
                )
                if spy is not None:
                    spy.wait()
                if round_ >= 0:
                    runs[who].append(figure)
        # Other work shares the machine: each side's best round is its capacity, and CPU
        # per request (the median round) is the figure least moved by that noise.
        figures: dict[str, Any] = {}
        for who, rounds in runs.items():
            best = max(rounds, key=lambda f: f["rps"])
            cpu_rounds = sorted(f["cpu_us_per_request"] for f in rounds)
            figures[who] = {**best, "cpu_us_per_request": cpu_rounds[len(cpu_rounds) // 2],
                            "rounds": rounds}
        row = {"db": db, "path": label, "kind": name, **figures,
               **report.judge(name, figures["keyward"], figures["baseline"])}
        if previous is not None:
            before = figures["previous"]
            row["ratio_vs_previous"] = figures["keyward"]["rps"] / max(before["rps"], 1e-9)
            row["cpu_vs_previous"] = figures["keyward"]["cpu_us_per_request"] / max(
                before["cpu_us_per_request"], 1e-9)
            print(f"[{db}] {label}: {figures['keyward']['rps']:,.0f} req/s against the "
                  f"previous {before['rps']:,.0f} ({row['ratio_vs_previous']:.2f}×); CPU per "
                  f"request {figures['keyward']['cpu_us_per_request']:.0f} µs against "
                  f"{before['cpu_us_per_request']:.0f} ({row['cpu_vs_previous']:.2f}×)",
                  file=sys.stderr, flush=True)
        print(report.table([row]).splitlines()[-1], file=sys.stderr, flush=True)
        return row

    previous_server = (
        procs.keyward(url, work / f"previous-{db}.log", root=args.previous.resolve())
        if args.previous else contextlib.nullcontext()
    )
    with procs.keyward(url, work / f"keyward-{db}.log") as ours, \
            procs.baseline(url, work / f"baseline-{db}.log") as theirs, \
            previous_server as previous:
        _check(seeded, ours.url, theirs.url, auth)
        for name, (label, our_path, their_path, headers) in paths.items():
            if args.purge_only:
                break
            if name not in args.paths.split(","):
                continue
            rows.append(measure(name, label, ours, theirs, previous, our_path, their_path,
                                headers))
        if not args.purge_only and "mixed" in args.paths.split(","):
            rows.append(mixed.measure(db, cfg, work, args, ours, bodies["verify-warm"],
                                      bodies["list"], {**json_headers, **auth}))
            print(report.table([rows[-1]]).splitlines()[-1], file=sys.stderr, flush=True)
        if not args.purge_only and "metrics" in args.paths.split(","):
            rows.append(metrics_cost.measure(db, url, cfg, work, args, ours,
                                             bodies["verify-warm"]))
        if not args.purge_only and "cache" in args.paths.split(","):
            rows += cache_rows(db, url, cfg, work, ours, theirs, auth, measure)
        if not args.no_purge:
            rows.append(purge.measure(db, url, cfg["purge"][db], seeded.organization_id, work,
                                      ours, args.use_wrk))
    return rows


def cache_rows(db: str, url: str, cfg: dict[str, Any], work: Path, ours: procs.Server,
               theirs: procs.Server, auth: dict[str, str], measure: Any) -> list[dict[str, Any]]:
    """The verification cache's rows (see `bench.cache`): keys in use with the cache off and with
    `serve --workers 2`, and revocation across two API processes, cache on and off."""
    json_headers = {"Content-Type": "application/json"}
    verify = "/v1/keys/verify"
    rows: list[dict[str, Any]] = []
    with procs.keyward(url, work / f"keyward-{db}-off.log", {"KEY_CACHE_SIZE": "0"}) as off:
        rows.append(measure("verify-warm-off", "… the same, cache off (KEY_CACHE_SIZE=0)", off,
                            theirs, None, verify, verify, json_headers))
    with procs.keyward(url, work / f"keyward-{db}-workers.log", workers=2) as pair:
        rows.append(measure("verify-warm-workers", "… the same, serve --workers 2", pair,
                            theirs, None, verify, verify, json_headers))
    for cache_off in (False, True):
        rows.append(cache.revocation(db, url, ours, auth, cfg["trials"], work, cache_off))
        print(report.table(rows[-1:]).splitlines()[-1], file=sys.stderr, flush=True)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small data, short phases (CI)")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--postgres-url", default=procs.POSTGRES_URL)
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    parser.add_argument("--open-loop", dest="use_wrk", action="store_false",
                        help="use the aiohttp open-loop generator even if wrk is installed")
    parser.add_argument("--profile", action="store_true",
                        help="py-spy keyward in each first round (raw stacks, into --keep)")
    parser.add_argument("--keep", type=Path, help="keep logs and bodies in this folder")
    parser.add_argument("--paths", default="verify,verify-warm,list,create,mixed,metrics,cache",
                        help="which paths to measure (comma-separated), e.g. verify,verify-warm")
    parser.add_argument("--no-purge", action="store_true", help="skip the purge-expired row")
    parser.add_argument("--previous", type=Path, metavar="DIR",
                        help="a checkout of an earlier keyward (git archive …): its server is "
                             "measured in the same rounds, and each row says how this one "
                             "compares (verification analytics: goal ≥ 0.9×)")
    parser.add_argument("--purge-only", action="store_true",
                        help="seed, then measure only the purge-expired row")
    parser.add_argument("--trials", type=int,
                        help="deletes in the revocation rows (default: 20 quick, 200 full)")
    args = parser.parse_args()
    args.use_wrk = args.use_wrk and load.wrk_available()
    mode = "quick" if args.quick else "full"
    cfg = MODES[mode]
    if args.trials:
        cfg = {**cfg, "trials": args.trials}
    began = time.monotonic()
    started_at = datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="keyward-bench-") as tmp:
        work = Path(tmp)
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            work = args.keep
        if args.only in (None, "sqlite"):
            for stale in work.glob("bench.sqlite3*"):
                stale.unlink()
            sqlite_url = f"sqlite://{work / 'bench.sqlite3'}"
            rows += run_backend("sqlite", sqlite_url, cfg, work, args)
        if args.only in (None, "postgres") and not args.no_postgres:
            if procs.postgres_fresh(args.postgres_url):
                rows += run_backend("postgres", args.postgres_url, cfg, work, args)
            else:
                print("PostgreSQL: no server at 127.0.0.1:5432, skipped", file=sys.stderr)
    result = {"mode": mode, "started_at": started_at.isoformat(), "machine": machine(),
              "load_tool": "wrk" if args.use_wrk else "open-loop",
              "seconds": time.monotonic() - began, "rows": rows}
    RESULTS.mkdir(exist_ok=True)
    name = "quick.tmp" if args.quick else started_at.strftime("%Y%m%dT%H%M%SZ") + (
        "-purge.json" if args.purge_only else ".json")
    (RESULTS / name).write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(report.table(rows))
    for row in rows:
        if row.get("note"):
            print(f"- {row['db']}, {row['path']}: {row['note']}")
    print(f"\n{mode} run, {result['load_tool']}, {result['seconds']:.0f} s on "
          f"{result['machine']['nproc']} × {result['machine']['cpu']}, load average at start "
          f"{result['machine']['loadavg_at_start'][0]:.1f}; saved to bench/results/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
