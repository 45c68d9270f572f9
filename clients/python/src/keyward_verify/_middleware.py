"""What a middleware does with a request, whatever the framework: find the key in its headers,
verify it, and either let the request through with the `Verification` or answer it.

- no key: 401 with `WWW-Authenticate: Bearer` (no error code: RFC 6750 §3.1);
- a key keyward refuses: 401 with `WWW-Authenticate: Bearer error="invalid_token"` and its code;
- a good key used from where its restrictions do not allow (FORBIDDEN): 403 with its reason;
- keyward unavailable: 503 (with keyward's `Retry-After`), or through without a verification
  when the application chose to fail open.

Answers are `application/problem+json` (RFC 9457), like keyward's own; they never hold the key.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass

from keyward_verify.async_client import AsyncKeywardClient
from keyward_verify.errors import KeywardProblem, KeywardUnavailable
from keyward_verify.result import Code, Verification

# keyward refuses a key too long to be one with a 400 (413 past its body limit): to the
# application that is a bad key, not a fault.
_REFUSED_AS_MALFORMED = frozenset({400, 413})
_WEB_ORIGIN = re.compile(r"(null|https?://[^\s/?#@]+([/?#]\S*)?)", re.IGNORECASE)


def caller_address(peer: str | None) -> str | None:
    """The peer's address when it is an IP address (not a Unix socket or a test client's name):
    keyward refuses anything else as a malformed `clientIp`."""
    if not peer:
        return None
    try:
        return str(ipaddress.ip_address(peer))
    except ValueError:
        return None


def caller_origin(origin: str | None, referer: str | None) -> str | None:
    """The caller's `Origin`, or failing that its `Referer` (keyward ignores the path), when it
    is a web origin; a browser extension's or a garbled one is left out."""
    for value in (origin, referer):
        if value and _WEB_ORIGIN.fullmatch(value.strip()):
            return value.strip()
    return None


@dataclass(frozen=True, slots=True)
class Outcome:
    """`status` 0 lets the request through, with `verification` (None when failing open)."""

    verification: Verification | None = None
    status: int = 0
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""

    @property
    def passes(self) -> bool:
        return self.status == 0


def token_from(authorization: str | None, api_key: str | None) -> str | None:
    """The key of `Authorization: Bearer …`, else of `X-Api-Key`."""
    if authorization:
        scheme, _, credentials = authorization.strip().partition(" ")
        if scheme.lower() == "bearer" and credentials.strip():
            return credentials.strip()
    if api_key and api_key.strip():
        return api_key.strip()
    return None


async def decide(
    client: AsyncKeywardClient,
    token: str | None,
    *,
    client_ip: str | None,
    origin: str | None,
    fail_open: bool,
) -> Outcome:
    if token is None:
        detail = "Send an API key: Authorization: Bearer <key>, or X-Api-Key: <key>."
        return _refuse(401, "Unauthorized", detail, ("WWW-Authenticate", "Bearer"))
    try:
        result = await client.verify(token, client_ip=client_ip, origin=origin)
    except KeywardUnavailable as error:
        if fail_open:
            return Outcome()
        retry = () if error.retry_after is None else (("Retry-After", f"{error.retry_after:.0f}"),)
        detail = "The API key cannot be checked right now; try again shortly."
        return _refuse(503, "Service Unavailable", detail, *retry)
    except KeywardProblem as error:
        if error.status not in _REFUSED_AS_MALFORMED:
            raise
        result = Verification(valid=False, code=Code.MALFORMED)
    if result.code == "FORBIDDEN":
        detail = f"The API key may not be used from here ({result.reason})."
        return _refuse(403, "Forbidden", detail, code=result.code)
    if not result.valid:
        detail = f"The API key is not valid ({result.code})."
        challenge = ("WWW-Authenticate", 'Bearer error="invalid_token"')
        return _refuse(401, "Unauthorized", detail, challenge, code=result.code)
    return Outcome(verification=result)


def _refuse(
    status: int, title: str, detail: str, *headers: tuple[str, str], code: str | None = None
) -> Outcome:
    problem: dict[str, object] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if code is not None:
        problem["code"] = code
    return Outcome(
        status=status,
        headers=(("Content-Type", "application/problem+json"), *headers),
        body=json.dumps(problem).encode(),
    )
