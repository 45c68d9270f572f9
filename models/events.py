"""Lifecycle events for the systems an organization connects (webhooks, issue 17).

`event_emit` is called inside the transaction of the change (or the job's decision) that causes
the event, so an event is published exactly when its cause commits: never lost, never for a
change that rolled back. It writes one delivery row per enabled endpoint of the organization that
subscribes to the event's type (or to `*`): the webhook outbox, which `jobs.webhook_delivery`
empties. Audit events (`models.audit`) are the record of changes; these are what an
organization's own systems hear about, a subset of them (`events_from_audit`, called where every
audit event is appended) plus notices such as `api_key.expiring` that change nothing.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from models.entities import ApiKey
from models.event_ids import new_event_id
from models.webhook_entities import WebhookDelivery, WebhookDeliveryStatus, WebhookEndpoint


class _Target(Protocol):
    @property
    def type(self) -> str: ...
    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str | None: ...


class Change(Protocol):
    """What `events_from_audit` reads of an audit event's draft (`models.audit.EventDraft`)."""

    @property
    def action(self) -> str: ...
    @property
    def target(self) -> _Target | None: ...
    @property
    def details(self) -> dict[str, Any] | None: ...
    @property
    def now(self) -> datetime: ...


# Every event type an endpoint may subscribe to (or `*` for all of them).
EVENT_TYPES = (
    "api_key.created",
    "api_key.rolled",
    "api_key.deleted",
    "api_key.updated",
    "api_key.leaked",
    "api_key.expiring",
    "api_key.expired",
    "member.joined",
    "member.removed",
    "member.role_changed",
)
ALL_EVENTS = "*"
# Sent by sendTestWebhook to one endpoint, whatever it subscribes to.
TEST_EVENT = "webhook.test"
# A body past this is cut down to the organization and the type (Standard Webhooks asks for
# small payloads; ours are a few hundred bytes).
MAX_BODY_BYTES = 20_000

# Audit actions that are webhook events, by the event type they become.
_FROM_AUDIT = {
    "api_key.created": "api_key.created",
    "api_key.rolled": "api_key.rolled",
    "api_key.deleted": "api_key.deleted",
    "api_key.updated": "api_key.updated",
    "api_key.expired": "api_key.expired",
    "member.joined": "member.joined",
    "member.removed": "member.removed",
    "member.left": "member.removed",
    "member.role_changed": "member.role_changed",
}


def _moment(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _moment_text(value: object) -> str | None:
    """A moment an audit event's details hold as ISO text, written as events write moments."""
    if not isinstance(value, str):
        return None
    try:
        return _moment(datetime.fromisoformat(value))
    except ValueError:
        return None


def event_body(type: str, data: dict[str, Any], now: datetime) -> str:
    """The JSON body every attempt of the event sends: `{"type", "timestamp", "data"}`."""
    body = json.dumps({"type": type, "timestamp": _moment(now), "data": data}, sort_keys=True)
    if len(body.encode()) > MAX_BODY_BYTES:
        small = {"organizationId": data.get("organizationId"), "truncated": True}
        body = json.dumps({"type": type, "timestamp": _moment(now), "data": small})
    return body


def key_data(key: ApiKey) -> dict[str, Any]:
    """A key as events show it: never its token, never its digest."""
    return {
        "id": str(key.id),
        "name": key.name,
        "type": key.type.value,
        "start": key.start,
        "expiresAt": _moment(key.expires_at),
    }


def subscribed(events: Sequence[str], type: str) -> bool:
    return type in events or ALL_EVENTS in events


async def event_emit(
    *,
    organization_id: uuid.UUID,
    type: str,
    data: dict[str, Any],
    now: datetime,
) -> None:
    """Publish the event `type` (`api_key.expiring`, …) with `data` (a small JSON object: never a
    token, never a digest; `key_data` shows a key) to the organization's subscribers, inside the
    caller's transaction: one PENDING delivery per enabled endpoint subscribed to `type` or `*`."""
    endpoints = await WebhookEndpoint.filter(organization_id=organization_id, enabled=True).values(
        "id", "events"
    )
    targets = [row["id"] for row in endpoints if subscribed(row["events"], type)]
    if not targets:
        return
    await deliveries_create(
        organization_id=organization_id,
        endpoint_ids=targets,
        type=type,
        data={"organizationId": str(organization_id), **data},
        now=now,
    )


async def deliveries_create(
    *,
    organization_id: uuid.UUID,
    endpoint_ids: Sequence[uuid.UUID],
    type: str,
    data: dict[str, Any],
    now: datetime,
    event_id: str | None = None,
) -> list[WebhookDelivery]:
    """One PENDING delivery of the event per endpoint, due now, all under one event id."""
    event_id = event_id or new_event_id(now)
    body = event_body(type, data, now)
    deliveries = [
        WebhookDelivery(
            id=uuid.uuid4(),
            endpoint_id=endpoint_id,
            organization_id=organization_id,
            event_id=f"msg_{event_id}",
            event_type=type,
            body=body,
            status=WebhookDeliveryStatus.PENDING,
            attempts=0,
            created_at=now,
            next_attempt_at=now,
        )
        for endpoint_id in endpoint_ids
    ]
    await WebhookDelivery.bulk_create(deliveries)
    return deliveries


async def events_from_audit(
    organization_id: uuid.UUID, drafts: Sequence[Change], event_ids: Sequence[str]
) -> None:
    """Publish the audit events that are webhook events (in the audit event's transaction, under
    its id). One query when nobody listens; one more for the keys the events name."""
    wanted = [(d, i) for d, i in zip(drafts, event_ids, strict=True) if d.action in _FROM_AUDIT]
    if not wanted:
        return
    endpoints = await WebhookEndpoint.filter(organization_id=organization_id, enabled=True).values(
        "id", "events"
    )
    if not endpoints:
        return
    key_ids = [uuid.UUID(d.target.id) for d, _ in wanted if d.target and d.target.type == "api_key"]
    keys = {key.id: key for key in await ApiKey.filter(id__in=key_ids)} if key_ids else {}
    for draft, event_id in wanted:
        type = _FROM_AUDIT[draft.action]
        targets = [row["id"] for row in endpoints if subscribed(row["events"], type)]
        if targets:
            data = {"organizationId": str(organization_id), **_audit_data(draft, keys)}
            await deliveries_create(
                organization_id=organization_id,
                endpoint_ids=targets,
                type=type,
                data=data,
                now=draft.now,
                event_id=event_id,
            )


def _audit_data(draft: Change, keys: dict[uuid.UUID, ApiKey]) -> dict[str, Any]:
    details = draft.details or {}
    target = draft.target
    if target is None:
        return {}
    if target.type == "member":
        member: dict[str, Any] = {"userId": target.id, "email": target.name}
        role = details.get("to", details.get("role"))
        if role is not None:
            member["role"] = role
        data: dict[str, Any] = {"member": member}
        if draft.action == "member.role_changed" and "from" in details:
            data["previousRole"] = details["from"]
        if draft.action == "member.left":
            data["reason"] = "left"
        return data
    key = keys.get(uuid.UUID(target.id))
    shown = (
        key_data(key)
        if key is not None
        else {
            "id": target.id,
            "name": target.name,
            "type": details.get("type"),
            "start": details.get("start"),
            "expiresAt": _moment_text(details.get("expiresAt")),
        }
    )
    data = {"key": shown}
    if draft.action == "api_key.rolled":
        data["oldKeyId"] = details.get("oldKeyId")
        data["newKeyId"] = details.get("newKeyId")
        data["graceEndsAt"] = _moment_text(details.get("graceEndsAt"))
    if draft.action == "api_key.updated" and isinstance(details.get("name"), dict):
        data["previousName"] = details["name"].get("from")
    return data
