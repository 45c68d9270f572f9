"""An open-loop load generator: requests start on a fixed schedule (`--rate` per second),
whether or not earlier ones have answered, and each latency is measured from its scheduled
start, so a stall shows up in the percentiles instead of silently lowering the request rate.

Used when wrk is not installed; prints one JSON line (see `bench.load.Load`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path

import aiohttp


async def _closed(
    url: str, bodies: list[bytes], headers: dict[str, str], seconds: float, connections: int,
) -> dict[str, object]:
    """`connections` clients, each sending its next request when the last one answered, for
    `seconds` (the dashboard's users: load that waits for its answers)."""
    latencies: list[float] = []
    errors = 0
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
        began = time.perf_counter()

        async def client(n: int) -> None:
            nonlocal errors
            while time.perf_counter() - began < seconds:
                sent = time.perf_counter()
                try:
                    async with session.post(url, data=bodies[n % len(bodies)]) as response:
                        await response.read()
                        if response.status >= 400:
                            errors += 1
                except aiohttp.ClientError:
                    errors += 1
                latencies.append(time.perf_counter() - sent)
                n += connections

        await asyncio.gather(*(client(n) for n in range(connections)))
        elapsed = time.perf_counter() - began
    return _summary(latencies, elapsed, errors)


def _summary(latencies: list[float], elapsed: float, errors: int) -> dict[str, object]:
    latencies.sort()

    def pct(p: float) -> float:
        if not latencies:
            return 0.0
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000

    return {
        "requests": len(latencies),
        "seconds": elapsed,
        "rps": len(latencies) / elapsed,
        "p50_ms": pct(50),
        "p90_ms": pct(90),
        "p99_ms": pct(99),
        "errors": errors,
    }


async def _run(
    url: str, bodies: list[bytes], headers: dict[str, str], rate: float, seconds: float,
    connections: int,
) -> dict[str, object]:
    latencies: list[float] = []
    errors = 0
    total = int(rate * seconds)
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def one(body: bytes, scheduled: float) -> None:
            nonlocal errors
            try:
                async with session.post(url, data=body) as response:
                    await response.read()
                    if response.status >= 400:
                        errors += 1
            except aiohttp.ClientError:
                errors += 1
            latencies.append(time.perf_counter() - scheduled)

        began = time.perf_counter()
        tasks = []
        for n in range(total):
            scheduled = began + n / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(bodies[n % len(bodies)], scheduled)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - began
    return _summary(latencies, elapsed, errors)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.openloop")
    parser.add_argument("--url", required=True)
    parser.add_argument("--bodies", type=Path, required=True)
    parser.add_argument("--rate", type=float, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--headers", default="{}")
    parser.add_argument("--closed", action="store_true",
                        help="closed loop: each connection sends when its last request answered")
    args = parser.parse_args()
    bodies = [line.encode() for line in args.bodies.read_text().splitlines() if line]
    if args.closed:
        print(json.dumps(asyncio.run(_closed(args.url, bodies, json.loads(args.headers),
                                             args.seconds, args.connections))))
        return
    result = asyncio.run(
        _run(args.url, bodies, json.loads(args.headers), args.rate, args.seconds,
             args.connections)
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
