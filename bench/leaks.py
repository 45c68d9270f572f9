"""`python -m bench.leaks [--postgres URL]`: what one GitHub secret-scanning batch of 1,000 tokens
costs in `models.leaks.leaks_report`, beside the digest lookup it cannot go below.

Scenarios, each on a fresh organization: 1,000 tokens keyward never issued (what GitHub sends
most: one lookup per table), 1,000 of the organization's secret keys under NOTIFY (recorded,
audited, mailed) and under REVOKE (each also deleted, with its tombstone). Baselines from the same
run: one `digest IN (…)` query for the 1,000 digests, and 1,000 single-digest queries (what
batching avoids). Prints each time and its ratio to the one-query baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from models import tokens
from models.access import KeyPrincipal, Permission, organization_access
from models.api_keys import api_key_create
from models.audit import Actor, ActorType
from models.database import database_close, database_open
from models.entities import ApiKey, ApiKeyType, LeakPolicy, Organization
from models.leaks import LeakReport, leaks_report
from models.policies import KeyPolicy, MailPolicy

BATCH = 1_000
GITHUB = Actor(ActorType.GITHUB, None, "GitHub secret scanning")
MAIL = MailPolicy(enabled=True, public_url="https://keys.example.org")


async def _organization(now: datetime, keys: int, policy: LeakPolicy) -> list[str]:
    organization = await Organization.create(name="Bench", created_at=now, leak_policy=policy)
    principal = KeyPrincipal(
        key_id=uuid.uuid4(), organization_id=organization.id, type=ApiKeyType.SECRET
    )
    access = await organization_access(principal, organization.id, Permission.MANAGE_KEYS)
    assert access is not None
    made = []
    for n in range(keys):
        _, token = await api_key_create(
            access=access,
            name=f"k{n}",
            type=ApiKeyType.SECRET,
            expires_at=None,
            now=now,
            policy=KeyPolicy(),
        )
        made.append(token)
    return made


async def _timed(action: Callable[[], Awaitable[object]]) -> float:
    started = time.perf_counter()
    await action()
    return time.perf_counter() - started


def _reports(batch: list[str]) -> list[LeakReport]:
    return [
        LeakReport(t, "keyward_secret_key", "https://github.com/o/r/blob/c/f", "content")
        for t in batch
    ]


async def measure(url: str) -> dict[str, float]:
    ctx = await database_open(url, create_schema=True)
    try:
        with ctx:
            now = datetime.now(UTC)
            unknown = [tokens.generate(tokens.TokenKind.SECRET_KEY) for _ in range(BATCH)]
            digests = [tokens.digest(t) for t in unknown]
            results = {
                "one digest IN query (baseline)": await _timed(
                    lambda: ApiKey.filter(digest__in=digests).values_list("id", flat=True)
                ),
            }

            async def one_by_one() -> None:
                for digest in digests:
                    await ApiKey.filter(digest=digest).values_list("id", flat=True)

            results["1,000 single-digest queries"] = await _timed(one_by_one)
            results["1,000 unknown tokens"] = await _timed(
                lambda: leaks_report(reports=_reports(unknown), reporter=GITHUB, mail=MAIL, now=now)
            )
            for policy in (LeakPolicy.NOTIFY, LeakPolicy.REVOKE):
                known = await _organization(now, BATCH, policy)
                results[f"1,000 known secret keys, {policy.value}"] = await _timed(
                    lambda known=known: leaks_report(
                        reports=_reports(known), reporter=GITHUB, mail=MAIL, now=now
                    )
                )
            return results
    finally:
        await database_close(ctx)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres", help="a PostgreSQL URL (an empty database) instead of SQLite")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        url = arguments.postgres or f"sqlite://{Path(directory) / 'bench.sqlite3'}"
        results = asyncio.run(measure(url))
    baseline = results["one digest IN query (baseline)"]
    print(f"{'postgres' if arguments.postgres else 'sqlite'}: {BATCH:,} tokens in one batch")
    for name, seconds in results.items():
        print(f"  {name:<40} {seconds * 1000:9.1f} ms  {seconds / baseline:8.1f}x")


if __name__ == "__main__":
    main()
