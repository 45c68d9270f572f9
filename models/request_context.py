"""Where a change came from, as the domain sees it: a small frozen value the HTTP edge builds
from each request (the client address after `TRUSTED_PROXY_HOPS`, the user agent, the request
id) and hands to the operations that record events. Jobs pass `NO_REQUEST`."""

from __future__ import annotations

from dataclasses import dataclass

MAX_USER_AGENT = 256
MAX_CLIENT_ADDRESS = 64
MAX_REQUEST_ID = 128


@dataclass(frozen=True, slots=True)
class RequestContext:
    client_address: str | None = None
    user_agent: str | None = None
    request_id: str | None = None

    @classmethod
    def of(
        cls, *, client_address: str | None, user_agent: str | None, request_id: str | None
    ) -> RequestContext:
        """Cut to what the logs keep: a user agent to 256 characters, an address to 64."""
        return cls(
            client_address=(client_address or None) and client_address[:MAX_CLIENT_ADDRESS],
            user_agent=(user_agent or None) and user_agent[:MAX_USER_AGENT],
            request_id=(request_id or None) and request_id[:MAX_REQUEST_ID],
        )


NO_REQUEST = RequestContext()
