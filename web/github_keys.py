"""GitHub's secret-scanning signing keys, by `key_identifier`.

From `GITHUB_SECRET_SCANNING_KEYS_FILE` when set (air-gapped installs, tests), else fetched from
`GITHUB_SECRET_SCANNING_KEYS_URL` (GitHub's meta endpoint, `{"public_keys": [{"key_identifier",
"key", "is_current"}]}`) with a 5 s timeout. A key is trusted for `CACHE_SECONDS` after it was
loaded; an identifier not in the cache makes one reload (GitHub rotates keys), but at most one
per `UNKNOWN_RELOAD_SECONDS`, so requests naming made-up identifiers cannot make this process
hammer GitHub. Concurrent reloads are coalesced behind one lock.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_public_key

CACHE_SECONDS = 3_600
UNKNOWN_RELOAD_SECONDS = 10
FETCH_TIMEOUT_SECONDS = 5
MAX_KEYS_DOCUMENT_BYTES = 1 << 20


class KeysUnavailable(Exception):
    """GitHub's keys could not be loaded (network, timeout, bad document): try again later."""


def parse_keys(document: bytes | str) -> dict[str, ec.EllipticCurvePublicKey]:
    """The P-256 keys of a keys document by identifier; raises `KeysUnavailable` on a bad one."""
    try:
        entries = json.loads(document)["public_keys"]
        keys = {}
        for entry in entries:
            key = load_pem_public_key(str(entry["key"]).encode())
            if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
                keys[str(entry["key_identifier"])] = key
        return keys
    except (ValueError, KeyError, TypeError) as error:
        raise KeysUnavailable(f"the signing keys document is unusable: {error}") from None


class GitHubKeys:
    def __init__(
        self, *, url: str, file: str = "", clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._url, self._file, self._clock = url, file, clock
        self._keys: dict[str, tuple[ec.EllipticCurvePublicKey, float]] = {}
        self._last_reload = float("-inf")
        self._lock = asyncio.Lock()

    async def key(self, identifier: str) -> ec.EllipticCurvePublicKey | None:
        """The key named `identifier`, or None when GitHub has no such key."""
        cached = self._fresh(identifier)
        if cached is not None:
            return cached
        async with self._lock:
            cached = self._fresh(identifier)
            if cached is not None:
                return cached
            known = identifier in self._keys
            if known or self._clock() - self._last_reload >= UNKNOWN_RELOAD_SECONDS:
                await self._reload()
            return self._fresh(identifier)

    def _fresh(self, identifier: str) -> ec.EllipticCurvePublicKey | None:
        entry = self._keys.get(identifier)
        if entry is None or self._clock() - entry[1] >= CACHE_SECONDS:
            return None
        return entry[0]

    async def _reload(self) -> None:
        self._last_reload = now = self._clock()
        document = await (asyncio.to_thread(self._read_file) if self._file else self._fetch())
        self._keys = {name: (key, now) for name, key in parse_keys(document).items()}

    def _read_file(self) -> bytes:
        try:
            return Path(self._file).read_bytes()
        except OSError as error:
            raise KeysUnavailable(f"cannot read {self._file}: {error.strerror}") from None

    async def _fetch(self) -> bytes:
        timeout = aiohttp.ClientTimeout(total=FETCH_TIMEOUT_SECONDS)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.get(self._url, headers={"Accept": "application/json"}) as response,
            ):
                if response.status != 200:
                    raise KeysUnavailable(f"{self._url} answered {response.status}")
                return await response.content.read(MAX_KEYS_DOCUMENT_BYTES)
        except (aiohttp.ClientError, TimeoutError) as error:
            raise KeysUnavailable(f"cannot fetch {self._url}: {type(error).__name__}") from None
