"""Counting verifications: the final outcome of each, with the type of the key it named.

`key_type` is the key's type when it was found, else the kind the token claims (`pk_`/`sk_`)
when it is well formed, else `UNKNOWN`: never anything that identifies the key.
"""

from __future__ import annotations

from models import tokens
from models.key_verification import Verification
from telemetry.metrics import RECORDING, verification_observed

_KIND_TYPES = {tokens.TokenKind.PUBLIC_KEY: "PUBLIC", tokens.TokenKind.SECRET_KEY: "SECRET"}


def verification_counted(result: Verification, token: str) -> None:
    """Count `result`, the answer to a verification of `token`."""
    if not RECORDING.on:
        return
    if result.type is not None:
        key_type = result.type.value
    else:
        kind = tokens.parse(token)
        key_type = "UNKNOWN" if kind is None else _KIND_TYPES.get(kind, "UNKNOWN")
    verification_observed(result.code.value, key_type)
