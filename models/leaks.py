"""Leaked keys: a token found in public (by GitHub's secret scanning, or sent to
`POST /v1/keys/report-leak` by whoever found it) is recorded against its key, and revoked at once
when it is a secret key of an organization whose `leak_policy` is REVOKE.

A public key is never revoked (it is published by design) but is recorded. A token that is a
deleted key's (its tombstone) is recorded too: the owner sees where it went. The digests of a whole
report are looked up in one query per table (per `LOOKUP_CHUNK`), so GitHub's batches of a
thousand matches cost a few queries, not a thousand. Each organization's leaks are handled in one
transaction: the keys' deletion (one DELETE through `keys_remove`, deleteApiKey's own path, so
the tombstones are written), the `key_leak` rows, one `api_key.leaked` audit event per key,
the `api_key.leaked` event for the organization's systems and a mail to its OWNERs and ADMINs
commit or roll back together. Nothing here holds on to a token: only its digest is compared.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from models import expiry, tokens
from models.api_keys import keys_remove
from models.audit import Actor, EventDraft, audit_append, key_target
from models.audit_entities import KeyLeak, KeyTombstone
from models.entities import ApiKey, ApiKeyType, LeakPolicy, Membership, Organization, Role
from models.events import event_emit
from models.key_changes import key_changes
from models.mail import MAIL_KIND, leaked_keys_mail
from models.outbox import outbox_add
from models.policies import MailPolicy
from models.request_context import NO_REQUEST, RequestContext

# Digests per `IN (…)` lookup: far below SQLite's and asyncpg's bound-parameter limits, and one
# GitHub batch of 1,000 matches still costs two queries per table.
LOOKUP_CHUNK = 500
MAX_URL_LENGTH = 2_048
MAX_SOURCE_LENGTH = 64
TRUE_POSITIVE = "true_positive"
FALSE_POSITIVE = "false_positive"
_KEY_KINDS = frozenset({tokens.TokenKind.PUBLIC_KEY, tokens.TokenKind.SECRET_KEY})


@dataclass(frozen=True, slots=True)
class LeakReport:
    """One match: the token, the scanner's name for its type, where it was found (a URL, or None
    when the reporter gave none) and the scanner's `source` (`content`, `commit`, `report`, …)."""

    token: str
    type: str
    url: str | None
    source: str


@dataclass(frozen=True, slots=True)
class LeakFeedback:
    """GitHub's feedback on one match: the token's SHA-256, its type, and whether it is ours."""

    token_hash: str
    token_type: str
    label: str


@dataclass
class _Found:
    report: LeakReport
    key: ApiKey | None = None
    stone: KeyTombstone | None = None


async def _by_digest(digests: list[str]) -> tuple[dict[str, ApiKey], dict[str, KeyTombstone]]:
    keys: dict[str, ApiKey] = {}
    stones: dict[str, KeyTombstone] = {}
    for at in range(0, len(digests), LOOKUP_CHUNK):
        chunk = digests[at : at + LOOKUP_CHUNK]
        keys.update((key.digest, key) for key in await ApiKey.filter(digest__in=chunk))
        missing = [digest for digest in chunk if digest not in keys]
        if missing:
            found = await KeyTombstone.filter(digest__in=missing)
            stones.update((stone.digest, stone) for stone in found)
    return keys, stones


async def leaks_report(
    *,
    reports: Sequence[LeakReport],
    reporter: Actor,
    mail: MailPolicy,
    now: datetime,
    live_secret_keys_only: bool = False,
    context: RequestContext = NO_REQUEST,
) -> list[LeakFeedback]:
    """Handle each match and return the feedback for each, in order: `true_positive` for a
    token of a key keyward knows (live, or deleted and remembered by its tombstone),
    `false_positive` otherwise. With `live_secret_keys_only` (anonymous reports), every other
    token is left alone. A token reported twice in one batch is handled once."""
    digests = [
        tokens.digest(report.token) if tokens.parse(report.token) in _KEY_KINDS else None
        for report in reports
    ]
    keys, stones = await _by_digest(sorted({d for d in digests if d is not None}))
    by_organization: dict[uuid.UUID, dict[str, _Found]] = {}
    for report, digest in zip(reports, digests, strict=True):
        key, stone = (None, None) if digest is None else (keys.get(digest), stones.get(digest))
        if live_secret_keys_only and (
            key is None or key.type is not ApiKeyType.SECRET or expiry.ended(key.expires_at, now)
        ):
            continue
        owner = key or stone
        if digest is not None and owner is not None:
            by_organization.setdefault(owner.organization_id, {}).setdefault(
                digest, _Found(report, key, stone)
            )
    if by_organization:
        organizations = {
            row.id: row for row in await Organization.filter(id__in=list(by_organization))
        }
        for organization_id, found in by_organization.items():
            organization = organizations.get(organization_id)
            if organization is not None:
                await _handle(organization, list(found.values()), reporter, mail, now, context)
    return [
        LeakFeedback(
            token_hash=digest if digest is not None else tokens.digest(report.token),
            token_type=report.type,
            label=TRUE_POSITIVE if digest in keys or digest in stones else FALSE_POSITIVE,
        )
        for report, digest in zip(reports, digests, strict=True)
    ]


async def _handle(
    organization: Organization,
    found: list[_Found],
    reporter: Actor,
    mail: MailPolicy,
    now: datetime,
    context: RequestContext,
) -> None:
    revoke_secrets = organization.leak_policy is LeakPolicy.REVOKE
    doomed = [
        item.key
        for item in found
        if revoke_secrets and item.key is not None and item.key.type is ApiKeyType.SECRET
    ]
    async with key_changes():
        # One DELETE (per chunk) for the batch; a key a concurrent delete took is gone all the
        # same, so every doomed key counts as revoked.
        await keys_remove(doomed, now=now)
        revoked_ids = {key.id for key in doomed}
        drafts: list[EventDraft] = []
        leaks: list[KeyLeak] = []
        mailed: list[tuple[str, str, str | None, bool]] = []
        for item in found:
            url = None if item.report.url is None else item.report.url[:MAX_URL_LENGTH]
            source = item.report.source[:MAX_SOURCE_LENGTH]
            key = item.key
            if key is not None:
                revoked = key.id in revoked_ids
                key_id, name, start, type = key.id, key.name, key.start, key.type.value
                mailed.append((name, start, url, revoked))
                await event_emit(
                    organization_id=organization.id,
                    type="api_key.leaked",
                    data=_event_data(key, url, source, revoked),
                    now=now,
                )
            else:
                assert item.stone is not None
                stone = item.stone
                revoked, key_id, name, start, type = (
                    False,
                    stone.key_id,
                    stone.name,
                    stone.start,
                    "",
                )
            leaks.append(
                KeyLeak(
                    key_id=key_id,
                    organization_id=organization.id,
                    url=url,
                    source=source,
                    reporter=reporter.type.value,
                    revoked=revoked,
                    found_at=now,
                )
            )
            details: dict[str, object] = {"start": start, "url": url, "source": source}
            details |= {"revoked": revoked, "alreadyDeleted": key is None}
            if type:
                details["type"] = type
            drafts.append(
                EventDraft(
                    "api_key.leaked", reporter, key_target(key_id, name), details, context, now
                )
            )
        await KeyLeak.bulk_create(leaks)
        if mailed and mail.enabled:
            await _mail_admins(organization, mailed, mail, now)
        await audit_append(organization.id, drafts)


def _event_data(key: ApiKey, url: str | None, source: str, revoked: bool) -> dict[str, object]:
    return {
        "organizationId": str(key.organization_id),
        "key": {
            "id": str(key.id),
            "name": key.name,
            "type": key.type.value,
            "start": key.start,
            "expiresAt": None if key.expires_at is None else key.expires_at.isoformat(),
        },
        "url": url,
        "source": source,
        "revoked": revoked,
    }


async def _mail_admins(
    organization: Organization,
    leaks: list[tuple[str, str, str | None, bool]],
    mail: MailPolicy,
    now: datetime,
) -> None:
    emails = await Membership.filter(
        organization_id=organization.id, role__in=[Role.OWNER, Role.ADMIN]
    ).values_list("user__email", flat=True)
    link = f"{mail.public_url}/orgs/{organization.id}/keys"
    for email in sorted({str(email) for email in emails}):
        message = leaked_keys_mail(
            to=email, organization_name=organization.name, leaks=leaks, link=link
        )
        await outbox_add(kind=MAIL_KIND, payload=message.payload(), now=now)
