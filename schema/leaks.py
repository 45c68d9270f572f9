"""Leaked keys in the schema: the `LeakPolicy` enum, the `KeyLeak` type, and the resolver of
`ApiKey.leaks` and `RevokedKeyUse.leaks` (one query per request for a whole page, through the
request's DataLoader; see `models.leaks`)."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry

from models.audit import ActorType
from models.entities import LeakPolicy
from models.leak_records import Leak, leaks_of_keys
from schema.enums import described

described(
    ActorType,
    "Who made a change: a person, an API key, keyward itself (its jobs), or whoever reported a "
    "leaked key.",
    {
        ActorType.USER: "A signed-in person; `name` is their email.",
        ActorType.API_KEY: "A secret key; `name` is its name and start.",
        ActorType.SYSTEM: "keyward itself: the scheduled jobs, and the Default API Key made "
        "with a new organization.",
        ActorType.GITHUB: "GitHub's secret scanning, reporting a key it found in public.",
        ActorType.REPORTER: "Someone who reported a key found in public "
        "(POST /v1/keys/report-leak); `clientAddress` is theirs.",
    },
    name="AuditActorType",
)
described(
    LeakPolicy,
    "What happens to the organization's SECRET keys when they are found in public (by GitHub's "
    "secret scanning, or a report to POST /v1/keys/report-leak). PUBLIC keys are only recorded.",
    {
        LeakPolicy.REVOKE: "Delete the key at once (its uses then fail), record the leak and "
        "mail the OWNERs and ADMINs. The default.",
        LeakPolicy.NOTIFY: "Only record the leak and mail the OWNERs and ADMINs; the key keeps "
        "working until someone rolls or deletes it.",
    },
)


@strawberry.type(description="One place a key was found in public.")
class KeyLeak:
    url: str | None = strawberry.field(
        description="Where it was found (a commit, a gist, …); null when the reporter gave none."
    )
    source: str = strawberry.field(
        description="What kind of place, as the reporter named it (GitHub: content, commit, "
        "pull_request_comment, …; `report` for POST /v1/keys/report-leak)."
    )
    reporter: ActorType = strawberry.field(
        description="Who reported it: GITHUB (secret scanning) or REPORTER (anyone, through "
        "POST /v1/keys/report-leak)."
    )
    revoked: bool = strawberry.field(description="Whether keyward deleted the key because of it.")
    found_at: datetime = strawberry.field(description="When keyward was told.")

    @classmethod
    def of(cls, leak: Leak) -> KeyLeak:
        return cls(
            url=leak.url,
            source=leak.source,
            reporter=ActorType(leak.reporter),
            revoked=leak.revoked,
            found_at=leak.found_at,
        )


async def load_leaks(keys: list[tuple[uuid.UUID, uuid.UUID]]) -> list[list[KeyLeak]]:
    """DataLoader batch: the leaks of (organization id, key id) pairs."""
    by_organization: dict[uuid.UUID, list[uuid.UUID]] = {}
    for organization_id, key_id in keys:
        by_organization.setdefault(organization_id, []).append(key_id)
    found: dict[tuple[uuid.UUID, uuid.UUID], list[KeyLeak]] = {}
    for organization_id, key_ids in by_organization.items():
        leaks = await leaks_of_keys(organization_id=organization_id, key_ids=key_ids)
        for key_id, rows in leaks.items():
            found[organization_id, key_id] = [KeyLeak.of(row) for row in rows]
    return [found.get(key, []) for key in keys]
