"""`AsyncKeywardClient`: verification from asyncio code over one aiohttp keep-alive pool.

Make one per process and keep it: every call reuses the pool's connections, so a verification
costs one round trip, not a TCP (and TLS) handshake. The pool is opened on first use inside the
running loop and closed by `close()` or `async with`.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

import aiohttp

from keyward_verify import _protocol
from keyward_verify.result import Verification


class AsyncKeywardClient:
    """`await client.verify(token)` against the keyward at `base_url`.

    `timeout` bounds a whole call, `connect_timeout` opening a connection; either one expiring
    raises `KeywardUnavailable`. Calls are not retried: a verification is cheap to repeat, but
    whether to (or to fail closed) is the caller's decision.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 3.0,
        connect_timeout: float = 1.0,
        pool_size: int = 100,
    ) -> None:
        self.base_url = base_url
        self._url = _protocol.verify_url(base_url)
        self._timeout = timeout
        self._client_timeout = aiohttp.ClientTimeout(total=timeout, sock_connect=connect_timeout)
        self._pool_size = pool_size
        self._session: aiohttp.ClientSession | None = None

    def __repr__(self) -> str:
        return f"AsyncKeywardClient({self.base_url!r})"

    async def __aenter__(self) -> Self:
        self._open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the pool's connections; a later `verify` opens a new pool."""
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def verify(
        self, token: str, *, client_ip: str | None = None, origin: str | None = None
    ) -> Verification:
        """Whether `token` is a good key now. Raises `KeywardUnavailable` when keyward cannot
        tell (unreachable, timed out, 503) and `KeywardProblem` when it refuses the request."""
        body = _protocol.request_body(token, client_ip, origin)
        try:
            async with self._open().post(
                self._url, data=body, headers=_protocol.REQUEST_HEADERS, allow_redirects=False
            ) as response:
                status = response.status
                retry_after = response.headers.get("Retry-After")
                payload = await response.read()
        except (aiohttp.ClientError, TimeoutError) as error:
            timed_out = isinstance(error, TimeoutError)
            raise _protocol.unavailable(error, timed_out, self._timeout) from error
        return _protocol.answer(status, payload, retry_after, token)

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                timeout=self._client_timeout,
            )
        return self._session
