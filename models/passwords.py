"""Password hashing with argon2id, off the event loop: one hash costs ~100 ms and would stall
every other request if it ran inline."""

from __future__ import annotations

import asyncio
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024


class Passwords:
    def __init__(self, *, time_cost: int = 3, memory_kib: int = 65_536) -> None:
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)
        # Checked against when the email is unknown, so both cases cost the same argon2 work.
        self._decoy = self._hasher.hash(secrets.token_urlsafe(16))

    async def hash(self, password: str) -> str:
        return await asyncio.get_running_loop().run_in_executor(None, self._hasher.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """True when `password` matches; with no hash, does the same work and answers False."""
        stored = password_hash or self._decoy
        try:
            await asyncio.get_running_loop().run_in_executor(
                None, self._hasher.verify, stored, password
            )
        except (VerificationError, InvalidHashError):
            return False
        return password_hash is not None
