"""What keyward answers about a key: a frozen, typed `Verification`.

`code` and `type` are plain strings so that a code a newer server adds (say, for an address
or origin the key does not allow) reaches the caller instead of breaking the client; the
values keyward has today are in `Code` and `KeyType`, which compare equal to those strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Code(StrEnum):
    VALID = "VALID"
    MALFORMED = "MALFORMED"
    NOT_FOUND = "NOT_FOUND"
    EXPIRED = "EXPIRED"
    FORBIDDEN = "FORBIDDEN"  # a live key used from outside its restrictions; see `reason`


class KeyType(StrEnum):
    PUBLIC = "PUBLIC"
    SECRET = "SECRET"


@dataclass(frozen=True, slots=True)
class Verification:
    """One answer of `POST /v1/keys/verify`. Only a valid key has the key's fields; a rolled
    key's `expires_at` is the end of its grace period."""

    valid: bool
    code: str
    key_id: str | None = None
    organization_id: str | None = None
    type: str | None = None
    name: str | None = None
    expires_at: datetime | None = None
    reason: str | None = None
