"""Counting verifications: the final outcome of each, with the type of the key it named.

`key_type` is the key's type when it was found, else the kind the token claims (`pk_`/`sk_`)
when it is well formed, else `UNKNOWN`: never anything that identifies the key.
"""

from __future__ import annotations

from typing import Any

from models import tokens
from models.entities import ApiKeyType
from models.key_verification import Verification, VerificationCode
from telemetry.metrics import KEY_VERIFICATIONS, RECORDING, held_inc, verification_observed

_KIND_TYPES = {tokens.TokenKind.PUBLIC_KEY: "PUBLIC", tokens.TokenKind.SECRET_KEY: "SECRET"}
# The hot path's children by (code, type): no enum `.value` or label validation per request.
_FOUND: dict[tuple[VerificationCode, ApiKeyType], Any] = {}


def verification_counted(result: Verification, token: str) -> None:
    """Count `result`, the answer to a verification of `token`."""
    if not RECORDING.on:
        return
    if result.type is not None:
        key = (result.code, result.type)
        counter = _FOUND.get(key)
        if counter is None:
            counter = _FOUND[key] = KEY_VERIFICATIONS.labels(result.code.value, result.type.value)
        held_inc(counter)
        return
    kind = tokens.parse(token)
    key_type = "UNKNOWN" if kind is None else _KIND_TYPES.get(kind, "UNKNOWN")
    verification_observed(result.code.value, key_type)
