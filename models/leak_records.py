"""What was recorded of leaked keys (`models.leaks` writes it), for a key's page and its tombstone's
row: read in one query for a whole page of keys."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from models.audit_entities import KeyLeak


@dataclass(frozen=True, slots=True)
class Leak:
    """Where a key was found, for its page or its tombstone's row."""

    key_id: uuid.UUID
    url: str | None
    source: str
    reporter: str
    revoked: bool
    found_at: datetime


async def leaks_of_keys(
    *, organization_id: uuid.UUID, key_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Leak]]:
    """The leaks recorded against each of `key_ids` (keys or tombstones of the organization the
    caller may list the keys of), newest first; one query."""
    found: dict[uuid.UUID, list[Leak]] = {key_id: [] for key_id in key_ids}
    if not key_ids:
        return found
    rows = await KeyLeak.filter(organization_id=organization_id, key_id__in=list(key_ids)).order_by(
        "-found_at", "-id"
    )
    for row in rows:
        found[row.key_id].append(
            Leak(row.key_id, row.url, row.source, row.reporter, row.revoked, row.found_at)
        )
    return found
