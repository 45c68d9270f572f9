"""Event ids: sortable by time, unique, shared by audit events, security events and webhook
events (an audit event that is also a webhook event is sent under its own id)."""

from __future__ import annotations

import secrets
from datetime import datetime

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_last_id = 0
_MONOTONIC_MS = 1_000


def new_event_id(now: datetime) -> str:
    """26 Crockford base32 characters: 48 bits of milliseconds, then 80 random bits; sorts by
    time. Monotonic within this process: an id made in the same millisecond as the last (or with
    a clock that stepped back by up to a second) is the last one plus one, so one process's
    events sort in order."""
    global _last_id
    value = (int(now.timestamp() * 1000) << 80) | secrets.randbits(80)
    if 0 <= (_last_id >> 80) - (value >> 80) <= _MONOTONIC_MS:
        value = _last_id + 1
    _last_id = value
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))
