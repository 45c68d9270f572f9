"""A key's verifications over time, from the flushed per-hour counters (`models.usage`): the
last flush interval's counts (`USAGE_FLUSH_SECONDS`) are not in yet."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from models.audit_entities import KeyUsage
from models.clock import as_utc
from models.errors import InvalidInput, Problems
from models.usage import hour_of

MAX_BUCKETS = 1_000  # 41 days by the hour, almost three years by the day
DEFAULT_WINDOW = timedelta(days=7)


class UsageBucketSize(StrEnum):
    HOUR = "HOUR"
    DAY = "DAY"


@dataclass
class UsageBucket:
    start: datetime
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _floor(moment: datetime, size: UsageBucketSize) -> datetime:
    hour = hour_of(moment)
    return hour if size is UsageBucketSize.HOUR else hour.replace(hour=0)


def _window(
    since: datetime | None, until: datetime | None, size: UsageBucketSize, now: datetime
) -> tuple[datetime, datetime]:
    problems = Problems()
    try:
        until = now if until is None else as_utc(until)
    except (ValueError, OverflowError):
        problems.add("until", "The date needs a UTC offset, such as Z.")
        until = now
    try:
        since = until - DEFAULT_WINDOW if since is None else as_utc(since)
    except (ValueError, OverflowError):
        problems.add("since", "The date needs a UTC offset, such as Z.")
        since = until - DEFAULT_WINDOW
    problems.check()
    if since >= until:
        raise InvalidInput("since", "since must lie before until.")
    step = timedelta(hours=1) if size is UsageBucketSize.HOUR else timedelta(days=1)
    if (until - _floor(since, size)) / step > MAX_BUCKETS:
        raise InvalidInput("since", f"Ask for at most {MAX_BUCKETS} buckets.")
    return since, until


async def key_usage_buckets(
    *,
    key_id: uuid.UUID,
    organization_id: uuid.UUID,
    since: datetime | None,
    until: datetime | None,
    size: UsageBucketSize,
    now: datetime,
) -> list[UsageBucket]:
    """Every bucket from the one holding `since` (default: 7 days before `until`) to the one
    holding `until` (default: now), oldest first, empty ones included."""
    since, until = _window(since, until, size, now)
    step = timedelta(hours=1) if size is UsageBucketSize.HOUR else timedelta(days=1)
    first = _floor(since, size)
    buckets: dict[datetime, UsageBucket] = {}
    moment = first
    while moment < until:
        buckets[moment] = UsageBucket(start=moment)
        moment += step
    rows = await KeyUsage.filter(
        key_id=key_id, organization_id=organization_id, hour__gte=first, hour__lt=until
    ).values("hour", "outcome", "count")
    for row in rows:
        bucket = buckets.get(_floor(row["hour"], size))
        if bucket is not None:
            bucket.counts[row["outcome"]] = bucket.counts.get(row["outcome"], 0) + int(row["count"])
    return list(buckets.values())
