"""`KeywardClient`: verification from blocking code (Flask, Django, workers) over one urllib3
keep-alive pool, safe to share between threads."""

from __future__ import annotations

from types import TracebackType
from typing import Self

import urllib3

from keyward_verify import _protocol
from keyward_verify.result import Verification


class KeywardClient:
    """`client.verify(token)` against the keyward at `base_url`.

    `connect_timeout` bounds opening a connection and `timeout` the call (urllib3's `total`:
    the time left after connecting is the limit for each read). Either one expiring raises
    `KeywardUnavailable`. Calls are not retried; `pool_size` connections are kept alive.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 3.0,
        connect_timeout: float = 1.0,
        pool_size: int = 10,
    ) -> None:
        self.base_url = base_url
        self._url = _protocol.verify_url(base_url)
        self._timeout = timeout
        self._pool = urllib3.PoolManager(
            num_pools=1,
            maxsize=pool_size,
            timeout=urllib3.Timeout(total=timeout, connect=connect_timeout),
            retries=False,
        )

    def __repr__(self) -> str:
        return f"KeywardClient({self.base_url!r})"

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the pool's connections; a later `verify` opens new ones."""
        self._pool.clear()

    def verify(
        self, token: str, *, client_ip: str | None = None, origin: str | None = None
    ) -> Verification:
        """Whether `token` is a good key now. Raises `KeywardUnavailable` when keyward cannot
        tell (unreachable, timed out, 503) and `KeywardProblem` when it refuses the request."""
        body = _protocol.request_body(token, client_ip, origin)
        try:
            response = self._pool.request(
                "POST", self._url, body=body, headers=_protocol.REQUEST_HEADERS, redirect=False
            )
        except (urllib3.exceptions.HTTPError, OSError) as error:
            # urllib3's NewConnectionError (refused, unresolvable) is a timeout by inheritance
            timed_out = isinstance(
                error, urllib3.exceptions.TimeoutError | TimeoutError
            ) and not isinstance(error, urllib3.exceptions.NewConnectionError)
            raise _protocol.unavailable(error, timed_out, self._timeout) from error
        return _protocol.answer(
            response.status, response.data, response.headers.get("Retry-After"), token
        )
