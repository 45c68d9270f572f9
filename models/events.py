"""Lifecycle events for the systems an organization connects (webhooks, issue 17).

`event_emit` is called inside the transaction of the change (or the job's decision) that causes
the event, so an event is published exactly when its cause commits: never lost, never for a
change that rolled back. Audit events (`models.audit`) are the record of changes; these are what
an organization's own systems hear about, a subset of them plus notices such as
`api_key.expiring` that change nothing.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any


async def event_emit(
    *, organization_id: uuid.UUID, type: str, data: dict[str, Any], now: datetime
) -> None:
    """Publish the event `type` (`api_key.expiring`, …) with `data` (a small JSON object: never a
    token, never a digest) to the organization's subscribers, inside the caller's transaction."""
    del organization_id, type, data, now  # no subscribers yet: webhooks arrive with issue 17
