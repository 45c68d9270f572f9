"""Seed a benchmark database through the domain functions, as the API itself would write it.

Keys are created with `api_key_create` and rolled with `api_key_roll`, in transactions of
`SEED_BATCH` so seeding 100,000 keys takes seconds rather than minutes. Only the purge row's
millions of already-expired rows are written with the raw driver (see `bench.purge`): the
domain refuses to create a key that is already expired, rightly.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import subprocess
import sys
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tortoise.transactions import in_transaction

from models import tokens
from models.access import (
    KeyPrincipal,
    OrganizationAccess,
    Permission,
    key_access,
    organization_access,
)
from models.accounts import organization_create, user_sign_up
from models.api_keys import api_key_create, api_key_roll
from models.database import database_close, database_open
from models.entities import ApiKey, ApiKeyType
from models.passwords import Passwords
from models.policies import MAX_GRACE_SECONDS, AccountPolicy, KeyPolicy

# Keys per transaction: big enough that commits do not dominate, small enough that SQLite's
# write lock is never held for long.
SEED_BATCH = 500


@dataclass(frozen=True)
class Seeded:
    organization_id: str  # the listing organization (10,000 keys in full mode)
    secret_token: str  # a SECRET key of that organization: the GraphQL credential
    tokens: list[str]  # the verification workload: valid and unknown, shuffled
    total_keys: int
    seconds: float


POLICY = KeyPolicy()


def _principal(organization_id: uuid.UUID) -> KeyPrincipal:
    """The seed acts as a secret key of each organization would."""
    return KeyPrincipal(
        key_id=uuid.uuid4(), organization_id=organization_id, type=ApiKeyType.SECRET
    )


async def _manager(organization_id: uuid.UUID) -> OrganizationAccess:
    access = await organization_access(
        _principal(organization_id), organization_id, Permission.MANAGE_KEYS
    )
    assert access is not None
    return access


async def _create_many(
    organization_id: object, count: int, *, start: datetime, step: timedelta, concurrency: int
) -> list[tuple[object, str, datetime]]:
    out: list[tuple[object, str, datetime]] = []
    access = await _manager(organization_id)  # type: ignore[arg-type]

    async def chunk(first: int) -> None:
        async with in_transaction():
            for i in range(first, min(first + SEED_BATCH, count)):
                now = start + step * i
                key, token = await api_key_create(
                    access=access,
                    name=f"bench key {i}",
                    type=ApiKeyType.SECRET if i % 4 else ApiKeyType.PUBLIC,
                    expires_at=None if i % 3 else now + timedelta(days=365),
                    now=now,
                    policy=POLICY,
                )
                out.append((key.id, token, now))

    firsts = list(range(0, count, SEED_BATCH))
    for at in range(0, len(firsts), concurrency):
        await asyncio.gather(*(chunk(f) for f in firsts[at : at + concurrency]))
    return out


async def seed(
    url: str, *, organizations: int, keys_per_organization: int, listing_keys: int, rolled: int
) -> Seeded:
    """One listing organization with `listing_keys` keys (the newest `rolled` of them rolled, so
    `replacedBy` has work to do on the first page), plus `organizations` others."""
    loop = asyncio.get_running_loop()
    began = loop.time()
    # One transaction at a time: creates in one organization append to its one audit chain, whose
    # lock would make concurrent 500-key transactions wait out the statement timeout.
    concurrency = 1
    ctx = await database_open(url, create_schema=True)
    try:
        with ctx:
            wall = datetime.now(UTC)
            start = wall - timedelta(hours=2)
            passwords = Passwords(time_cost=1, memory_kib=1024)
            signed = await user_sign_up(
                email="bench@example.com",
                password="bench password",
                organization_name="Bench",
                now=start,
                passwords=passwords,
                policy=AccountPolicy(session_ttl_seconds=86_400),
                key_policy=POLICY,
            )
            orgs = [
                await organization_create(
                    user_id=signed.user.id,
                    name=f"Org {n}",
                    now=start,
                    policy=POLICY,
                    # the bench's one user holds every organization it measures
                    max_organizations=organizations + 2,
                )
                for n in range(organizations + 1)
            ]
            listing = orgs[0]
            _, secret_token = await api_key_create(
                access=await _manager(listing.id),
                name="bench credential",
                type=ApiKeyType.SECRET,
                expires_at=None,
                now=start,
                policy=POLICY,
            )
            step = timedelta(seconds=3600 / max(listing_keys, 1))
            created = await _create_many(
                listing.id, listing_keys, start=start, step=step, concurrency=concurrency
            )
            for key_id, _, created_at in sorted(created, key=lambda c: c[2])[-rolled:]:
                managed = await key_access(_principal(listing.id), key_id, Permission.MANAGE_KEYS)  # type: ignore[arg-type]
                assert managed is not None
                await api_key_roll(
                    access=managed,
                    grace_seconds=MAX_GRACE_SECONDS,
                    now=created_at + step / 2,
                    policy=POLICY,
                )
            valid = [token for _, token, _ in created]
            for org in orgs[1:]:
                more = await _create_many(
                    org.id, keys_per_organization, start=start, step=step, concurrency=concurrency
                )
                valid.extend(token for _, token, _ in more)
            total_keys = await ApiKey.all().count()
    finally:
        await database_close(ctx)
    unknown = [tokens.generate(tokens.TokenKind.SECRET_KEY) for _ in range(len(valid) // 9)]
    workload = valid + unknown
    random.Random(6).shuffle(workload)
    return Seeded(
        organization_id=str(listing.id),
        secret_token=secret_token,
        tokens=workload,
        total_keys=total_keys,
        seconds=loop.time() - began,
    )


def seed_in_subprocess(url: str, out: Path, **sizes: int) -> Seeded:
    """`seed` in a process of its own: tortoise keeps per-process state that breaks PostgreSQL
    inserts once the same process has used SQLite (see shared PITFALLS)."""
    command = [sys.executable, "-m", "bench.seed", "--database", url, "--out", str(out)]
    for name, value in sizes.items():
        command += [f"--{name.replace('_', '-')}", str(value)]
    subprocess.run(command, check=True, cwd=Path(__file__).resolve().parent.parent)
    return Seeded(**json.loads(out.read_text()))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.seed")
    parser.add_argument("--database", required=True)
    parser.add_argument("--out", type=Path, required=True)
    for name in ("organizations", "keys-per-organization", "listing-keys", "rolled"):
        parser.add_argument(f"--{name}", type=int, required=True)
    args = parser.parse_args()
    seeded = asyncio.run(
        seed(
            args.database,
            organizations=args.organizations,
            keys_per_organization=args.keys_per_organization,
            listing_keys=args.listing_keys,
            rolled=args.rolled,
        )
    )
    args.out.write_text(json.dumps(asdict(seeded)))


if __name__ == "__main__":
    main()
