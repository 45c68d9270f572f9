"""Load from a separate process: wrk with a Lua script where installed, else an open-loop
aiohttp generator (`python -m bench.openloop`) at a fixed request rate.

Each run returns a `Load`: completed requests per second and latency percentiles in ms.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

CONNECTIONS = 32

_LUA = r"""
local bodies = {}
local path = "%(path)s"
local headers = %(headers)s
local i = 0

init = function(args)
  for line in io.lines(args[1]) do bodies[#bodies + 1] = line end
  i = math.random(#bodies)
end

request = function()
  i = i %% #bodies + 1
  return wrk.format("POST", path, headers, bodies[i])
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %%d, "duration_us": %%d, "non_2xx": %%d, "socket_errors": %%d,'
    .. ' "p50_us": %%d, "p90_us": %%d, "p99_us": %%d, "max_us": %%d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""


@dataclass(frozen=True)
class Load:
    tool: str
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    errors: int

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def run(
    *,
    base_url: str,
    path: str,
    bodies_file: Path,
    headers: dict[str, str],
    seconds: float,
    workdir: Path,
    rate: float,
    use_wrk: bool,
    connections: int = CONNECTIONS,
    closed: bool = False,
) -> Load:
    """POST the lines of `bodies_file` round-robin to `base_url + path` for `seconds`, over
    `connections`; `closed`: each connection waits for its answer (wrk always does), instead of
    the open loop's fixed `rate`."""
    if use_wrk:
        return _wrk(base_url, path, bodies_file, headers, seconds, workdir, connections)
    return _openloop(base_url, path, bodies_file, headers, seconds, rate, connections, closed)


def _wrk(
    base_url: str, path: str, bodies: Path, headers: dict[str, str], seconds: float, workdir: Path,
    connections: int,
) -> Load:
    lua_headers = "{" + ", ".join(f'["{k}"] = "{v}"' for k, v in headers.items()) + "}"
    script = workdir / f"load-{path.strip('/').replace('/', '-')}-{connections}.lua"
    script.write_text(_LUA % {"path": path, "headers": lua_headers})
    command = [
        "wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency",
        "--timeout", "10s", "-s", str(script), base_url, "--", str(bodies),
    ]
    out = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 60)
    line = next(x for x in out.stdout.splitlines() if x.startswith("WRK_JSON "))
    data = json.loads(line.removeprefix("WRK_JSON "))
    duration = data["duration_us"] / 1e6
    return Load(
        tool="wrk",
        requests=data["requests"],
        seconds=duration,
        rps=data["requests"] / duration,
        p50_ms=data["p50_us"] / 1000,
        p90_ms=data["p90_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        errors=data["non_2xx"] + data["socket_errors"],
    )


def _openloop(
    base_url: str, path: str, bodies: Path, headers: dict[str, str], seconds: float, rate: float,
    connections: int, closed: bool,
) -> Load:
    command = [
        sys.executable, "-m", "bench.openloop", "--url", base_url + path, "--bodies", str(bodies),
        "--rate", str(rate), "--seconds", str(seconds), "--connections", str(connections),
        "--headers", json.dumps(headers), *(["--closed"] if closed else []),
    ]
    out = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 60)
    return Load(tool="open-loop", **json.loads(out.stdout.splitlines()[-1]))
