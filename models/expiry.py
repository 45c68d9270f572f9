"""When a credential stops working: at its `expires_at`, not a moment later or earlier.

Keys and sessions both end at the instant `expires_at <= now`. This is the one definition; the
status of a key, the ORM filters, and the raw SQL of the hot path and the purge are all built
from it here (tests/test_expiry_rule.py holds them to each other on a real database).
"""

from __future__ import annotations

from datetime import datetime

from tortoise.expressions import Q

COLUMN = "expires_at"


def ended(expires_at: datetime | None, now: datetime) -> bool:
    """Whether a credential with this `expires_at` no longer works at `now` (None: never ends)."""
    return expires_at is not None and expires_at <= now


def ended_q(now: datetime) -> Q:
    """The ORM filter for `ended`."""
    return Q(expires_at__lte=now)


def live_q(now: datetime) -> Q:
    """The ORM filter for `not ended`."""
    return Q(expires_at=None) | Q(expires_at__gt=now)


def ended_sql(parameter: str) -> str:
    """The raw-SQL condition for `ended`, with `parameter` (`?` or `$1`) standing for `now`."""
    return f"{COLUMN} <= {parameter}"


def live_sql(parameter: str) -> str:
    """The raw-SQL condition for `not ended`, with `parameter` standing for `now`."""
    return f"({COLUMN} IS NULL OR {COLUMN} > {parameter})"
