"""The two ways a verification can fail to produce an answer.

`KeywardUnavailable`: keyward could not tell, now (connection refused or reset, a timeout, a
503 while its database is away, any other 5xx or 429). Decide yourself whether to fail
closed (the middlewares' default) or to retry.

`KeywardProblem`: keyward refused the request itself (400, 413, 415, …), with the fields of
its `application/problem+json` answer. The token is never part of either error's message or
repr: an error may be logged anywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class KeywardError(Exception):
    """Base class of everything this package raises."""


class KeywardUnavailable(KeywardError):
    """keyward could not be asked or could not answer. `status` is None when no HTTP answer
    came back; `retry_after` is the server's `Retry-After` in seconds, when it sent one."""

    def __init__(
        self, message: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class KeywardProblem(KeywardError):
    """keyward answered the request with an error (RFC 9457 problem details)."""

    def __init__(
        self,
        *,
        status: int,
        title: str,
        detail: str | None = None,
        type: str = "about:blank",
        instance: str | None = None,
        extensions: Mapping[str, Any] | None = None,
    ) -> None:
        message = f"keyward refused the verification request: {status} {title}"
        super().__init__(f"{message}: {detail}" if detail else message)
        self.status = status
        self.title = title
        self.detail = detail
        self.type = type
        self.instance = instance
        self.extensions: Mapping[str, Any] = dict(extensions or {})


class KeywardProtocolError(KeywardError):
    """An answer that is not keyward's (a wrong base URL, a proxy's own page)."""
