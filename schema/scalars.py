"""The `DateTime` scalar: ISO 8601 with a UTC offset on output.

Input without an offset still parses here so that the resolver can answer `InvalidInput` on
the right field (a union member) instead of a bare validation error.
"""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry


def _serialize(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _parse(value: object) -> datetime:
    if not isinstance(value, str):
        raise ValueError("DateTime takes an ISO 8601 string, such as 2030-01-01T00:00:00Z.")
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            "DateTime takes an ISO 8601 string, such as 2030-01-01T00:00:00Z."
        ) from None


DATETIME = strawberry.scalar(
    name="DateTime",
    description="An ISO 8601 date and time with a UTC offset, such as 2030-01-01T00:00:00Z.",
    serialize=_serialize,
    parse_value=_parse,
)
