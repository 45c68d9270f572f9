"""What the housekeeping jobs leave behind when they change keys: one audit event per key in its
organization's chain (actor SYSTEM), and a tombstone per purged key, written inside the batch's
own transaction (see `models.housekeeping`)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from models.audit import SYSTEM, EventDraft, audit_append, key_target
from models.key_changes import key_changed
from models.request_context import NO_REQUEST
from models.sql import as_uuid
from models.tombstones import tombstones_write

# The columns a job's statement returns for each key it changed (`RETURNING …`), read with
# `execute_query_dict`: tortoise's PostgreSQL `execute_query` drops an UPDATE's or DELETE's rows.
RETURNED = "id, organization_id, name, start, digest"


@dataclass(frozen=True, slots=True)
class RetiredKey:
    id: uuid.UUID
    organization_id: uuid.UUID
    name: str
    start: str
    digest: str

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> RetiredKey:
        return cls(
            as_uuid(row["id"]), as_uuid(row["organization_id"]), row["name"], row["start"],
            row["digest"],
        )  # fmt: skip


async def keys_retired(
    rows: Sequence[Mapping[str, Any]], *, action: str, now: datetime, tombstones: bool
) -> list[RetiredKey]:
    """Record `action` (`api_key.expired`, `api_key.purged`) for each returned row, grouped by
    organization so each chain is locked once per batch."""
    keys = [RetiredKey.of(row) for row in rows]
    if keys:  # the caller's transaction is a `key_changes()` (see `models.housekeeping`)
        await key_changed(digests=[key.digest for key in keys])
    if tombstones:
        await tombstones_write(keys, deleted_at=now)
    by_organization: dict[uuid.UUID, list[EventDraft]] = defaultdict(list)
    for key in keys:
        by_organization[key.organization_id].append(
            EventDraft(
                action=action,
                actor=SYSTEM,
                target=key_target(key.id, key.name),
                details={"start": key.start},
                context=NO_REQUEST,
                now=now,
            )
        )
    for organization_id in sorted(by_organization):  # one lock order: no deadlock between jobs
        await audit_append(organization_id, by_organization[organization_id])
    return keys
