"""`POST /v1/keys/verify` on the wire, shared by the async and the sync client: the request
body, and the answer turned into a `Verification` or one of the errors."""

from __future__ import annotations

import json
from datetime import datetime
from http import HTTPStatus
from importlib import metadata
from typing import Any

from keyward_verify.errors import KeywardProblem, KeywardProtocolError, KeywardUnavailable
from keyward_verify.result import Code, KeyType, Verification

VERIFY_PATH = "/v1/keys/verify"
try:
    USER_AGENT = f"keyward-verify/{metadata.version('keyward-verify')}"
except metadata.PackageNotFoundError:  # run from a source tree
    USER_AGENT = "keyward-verify"
REQUEST_HEADERS = {
    "Content-Type": "application/json",
    "Accept": "application/json, application/problem+json",
    "User-Agent": USER_AGENT,
}
# Shorter strings are not worth hiding and would garble every message they occur in.
_MIN_SCRUBBED_LENGTH = 4


def verify_url(base_url: str) -> str:
    return base_url.rstrip("/") + VERIFY_PATH


def request_body(token: str, client_ip: str | None, origin: str | None) -> bytes:
    """`clientIp` and `origin` only when given: a server without them ignores them."""
    if not isinstance(token, str):
        raise TypeError("token must be a str")
    body: dict[str, str] = {"key": token}
    if client_ip is not None:
        body["clientIp"] = client_ip
    if origin is not None:
        body["origin"] = origin
    return json.dumps(body).encode()


def unavailable(error: BaseException, timed_out: bool, timeout: float) -> KeywardUnavailable:
    """A failure before any answer, named by the cause's class only (its text is the library's)."""
    if timed_out:
        return KeywardUnavailable(f"keyward did not answer within the timeout ({timeout:g} s)")
    return KeywardUnavailable(f"keyward could not be reached ({type(error).__name__})")


def answer(status: int, body: bytes, retry_after: str | None, token: str) -> Verification:
    """The answer to a verification request, or the error it stands for."""
    if status == 429 or status >= 500:
        seconds = float(retry_after) if retry_after and retry_after.isdigit() else None
        raise KeywardUnavailable(
            f"keyward answered {status} {_phrase(status)}", status=status, retry_after=seconds
        )
    document = _json(body)
    if status == 200:
        return _verification(document)
    if 400 <= status < 500:
        raise _problem(status, document, token)
    raise KeywardProtocolError(f"unexpected answer from keyward: HTTP {status}")


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def _verification(document: Any) -> Verification:
    if (
        not isinstance(document, dict)
        or not isinstance(document.get("valid"), bool)
        or not isinstance(document.get("code"), str)
    ):
        raise KeywardProtocolError("unexpected answer from keyward: not a verification")
    code: str = document["code"]
    key_type = _string(document, "type")
    expires_at = _string(document, "expiresAt")
    try:
        expires = None if expires_at is None else datetime.fromisoformat(expires_at)
    except ValueError:
        raise KeywardProtocolError("unexpected answer from keyward: expiresAt") from None
    return Verification(
        valid=document["valid"],
        code=Code(code) if code in Code.__members__ else code,
        key_id=_string(document, "keyId"),
        organization_id=_string(document, "organizationId"),
        type=KeyType(key_type) if key_type and key_type in KeyType.__members__ else key_type,
        name=_string(document, "name"),
        expires_at=expires,
        reason=_string(document, "reason"),
    )


def _string(document: dict[str, Any], name: str) -> str | None:
    value = document.get(name)
    return value if isinstance(value, str) else None


def _problem(status: int, document: Any, token: str) -> KeywardProblem:
    fields: dict[str, Any] = document if isinstance(document, dict) else {}

    def text(name: str) -> str | None:
        value = fields.get(name)
        return _scrub(value, token) if isinstance(value, str) else None

    known = {"type", "title", "status", "detail", "instance"}
    return KeywardProblem(
        status=status,
        title=text("title") or _phrase(status),
        detail=text("detail"),
        type=text("type") or "about:blank",
        instance=text("instance"),
        extensions={
            name: _scrub(value, token) if isinstance(value, str) else value
            for name, value in fields.items()
            if name not in known
        },
    )


def _scrub(text: str, token: str) -> str:
    """An error echoing the token would carry it into logs: never let it."""
    if len(token) >= _MIN_SCRUBBED_LENGTH:
        return text.replace(token, "[token]")
    return text
