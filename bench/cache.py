"""The verification cache's rows: how fast a revocation reaches another API process, cache on
and off (the rows for verification with the cache off and with `serve --workers 2` are measured
like every other path, in `bench.__main__`).

Revocation: a key is created through process A, verified twice through B (so B holds it),
deleted through A; then B is asked in a tight loop until it refuses. The delay is from A's
answer to B's first refusal, as a client of both would see it. B's own figure (from the change's
commit, carried in the notification, to its eviction) comes from its `/healthz`.
"""

from __future__ import annotations

import http.client
import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench import procs

CREATE = """mutation Create($input: CreateApiKeyInput!) { createApiKey(input: $input) {
  __typename ... on ApiKeyCreated { token apiKey { id } } } }"""
DELETE = """mutation Delete($input: DeleteApiKeyInput!) { deleteApiKey(input: $input) {
  __typename } }"""
LOOP_LIMIT = 100_000  # verifications per trial: far past any bound, so a trial always ends


class _Http:
    """One keep-alive connection, JSON in and out."""

    def __init__(self, base: str, headers: dict[str, str] | None = None) -> None:
        parts = urlsplit(base)
        self.connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
        self.headers = {"Content-Type": "application/json", **(headers or {})}

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        self.connection.request("POST", path, json.dumps(body), self.headers)
        response = self.connection.getresponse()
        return dict(json.loads(response.read()))

    def get(self, path: str) -> dict[str, Any]:
        self.connection.request("GET", path)
        return dict(json.loads(self.connection.getresponse().read()))

    def verify(self, token: str) -> str:
        return str(self.post("/v1/keys/verify", {"key": token})["code"])

    def close(self) -> None:
        self.connection.close()


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def revocation(
    db: str,
    url: str,
    a: procs.Server,
    auth: dict[str, str],
    trials: int,
    work: Path,
    cache_off: bool = False,
) -> dict[str, Any]:
    env = {"KEY_CACHE_SIZE": "0"} if cache_off else {}
    label = "revocation A → B" + (" (cache off)" if cache_off else "")
    goal_ms = 20.0 if db == "postgres" else 250.0
    with procs.keyward(url, work / f"keyward-{db}-b.log", env) as b:
        one, two = _Http(a.url, auth), _Http(b.url)
        delays: list[float] = []
        try:
            for n in range(trials):
                created = one.post(
                    "/graphql", {"query": CREATE, "variables": {"input": {"name": f"revoke {n}"}}}
                )
                result = created["data"]["createApiKey"]
                token, key_id = result["token"], result["apiKey"]["id"]
                if two.verify(token) != "VALID" or two.verify(token) != "VALID":
                    raise SystemExit("a new key did not verify on the second process")
                deleted = one.post(
                    "/graphql", {"query": DELETE, "variables": {"input": {"id": key_id}}}
                )
                answered = time.perf_counter()
                if deleted["data"]["deleteApiKey"]["__typename"] != "ApiKeyDeleted":
                    raise SystemExit(f"delete failed: {deleted}")
                for _ in range(LOOP_LIMIT):
                    if two.verify(token) != "VALID":
                        break
                delays.append((time.perf_counter() - answered) * 1000)
            health = two.get("/healthz")
        finally:
            one.close()
            two.close()
    p99 = _percentile(delays, 0.99)
    return {
        "db": db,
        "path": f"{label}, {trials} deletes",
        "kind": "revocation",
        "p50_ms": _percentile(delays, 0.5),
        "p99_ms": p99,
        "max_ms": max(delays),
        "internal_p50_ms": health.get("revocationPropagationP50Ms"),
        "internal_p99_ms": health.get("revocationPropagationP99Ms"),
        "goal": f"p99 ≤ {goal_ms:.0f} ms",
        "met": "yes" if p99 <= goal_ms else "NO",
    }
