"""Verify keyward API keys from your own API.

    async with AsyncKeywardClient("http://keyward:8000") as keyward:
        verification = await keyward.verify(token)

`KeywardClient` is the same for blocking code; `keyward_verify.aiohttp_middleware` and
`keyward_verify.asgi` guard a whole application.
"""

from __future__ import annotations

from keyward_verify.async_client import AsyncKeywardClient
from keyward_verify.errors import (
    KeywardError,
    KeywardProblem,
    KeywardProtocolError,
    KeywardUnavailable,
)
from keyward_verify.result import Code, KeyType, Verification
from keyward_verify.sync_client import KeywardClient

__all__ = [
    "AsyncKeywardClient",
    "Code",
    "KeyType",
    "KeywardClient",
    "KeywardError",
    "KeywardProblem",
    "KeywardProtocolError",
    "KeywardUnavailable",
    "Verification",
]
