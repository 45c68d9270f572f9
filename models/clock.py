"""Time in keyward: aware UTC datetimes only. Domain functions take `now` from their caller."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """`value` in UTC. Naive datetimes are refused: tortoise would silently take them as UTC."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("a datetime needs a time zone")
    return value.astimezone(UTC)
