"""How many leak reports one client address may send: `LEAK_REPORTS_PER_HOUR`, counted in the
database (`leak_report_attempt`) so every API process agrees, the way `models.sign_up_limits`
counts sign-ups. `POST /v1/keys/report-leak` needs no credential; the limit keeps it from being a
way to test stolen-looking tokens in bulk (it answers the same whatever matched anyway)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from models.entities import LeakReportAttempt
from models.errors import DomainError

LEAK_REPORT_WINDOW = timedelta(hours=1)


class TooManyLeakReports(DomainError):
    message = "Too many leak reports came from this address. Try again later."

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__()
        self.retry_after_seconds = retry_after_seconds


async def leak_report_admit(*, client_address: str, now: datetime, limit: int) -> None:
    """Count a report from `client_address`, or raise `TooManyLeakReports` (counting nothing)."""
    row = await LeakReportAttempt.create(client_address=client_address[:64], reported_at=now)
    earlier = (
        LeakReportAttempt.filter(
            id__lt=row.id,
            client_address=row.client_address,
            reported_at__gt=now - LEAK_REPORT_WINDOW,
        )
        .order_by("-id")
        .offset(limit - 1)
        .limit(1)
    )
    oldest = await earlier.values_list("reported_at", flat=True)
    if oldest:
        await LeakReportAttempt.filter(id=row.id).delete()
        free_at: datetime = oldest[0] + LEAK_REPORT_WINDOW  # type: ignore[operator]
        raise TooManyLeakReports(max(1, math.ceil((free_at - now).total_seconds())))


async def leak_report_attempts_purge(*, now: datetime) -> int:
    """Forget reports older than the window; returns how many."""
    return await LeakReportAttempt.filter(reported_at__lte=now - LEAK_REPORT_WINDOW).delete()
