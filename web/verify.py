"""`POST /v1/keys/verify {"key": …}`: whether a key is good, for resource servers.

Errors are RFC 9457 problem documents; a good or bad key is a 200 with `valid` and `code`. The
body must be `application/json` (415 otherwise), so no form or `text/plain` post a browser sends
cross-site without a preflight reaches it. The shapes below are the OpenAPI document's too. The
optional `clientIp` and `origin` describe the resource server's own caller: a key restricted to
networks or origins (`models.restrictions`) is checked against them, and a deleted key's
`clientIp` is kept to show its owner who still sends it.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from aiohttp import web

from models.entities import ApiKeyType
from models.errors import InvalidInput
from models.key_verification import Verification, VerificationCode, api_key_verify
from models.restrictions import DenialReason
from models.tokens import MAX_TOKEN_LENGTH
from telemetry.verifications import verification_counted
from web.bodies import BadBody, json_object
from web.media import JSON, json_media_type
from web.problems import PROBLEM_JSON, problem, problem_bytes
from web.rest import Operation, Reply, problems
from web.shapes import ShapeError, describe, from_json, to_json
from web.state import CLOCK

_LABEL = "[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PORT = "([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])"
# An Origin (or a Referer: anything after the host and port is ignored), or `null`.
ORIGIN_PATTERN = (
    f"^(null|[Hh][Tt][Tt][Pp][Ss]?://({_LABEL}\\.)*{_LABEL}(:{_PORT})?([/?#].*)?)$"
)
MAX_CLIENT_IP_LENGTH = 64  # an IPv6 address with a zone fits


@dataclass(frozen=True)
class VerifyRequest:
    """The token to check."""

    key: str = field(
        metadata=describe(
            "The token exactly as the caller presented it (`pk_…` or `sk_…`).",
            max_length=MAX_TOKEN_LENGTH,
        )
    )
    client_ip: str | None = field(
        default=None,
        metadata=describe(
            "Optional: the IPv4 or IPv6 address of your own caller, as your server sees it. A "
            "key with allowedCidrs is FORBIDDEN (IP_NOT_ALLOWED) without it or outside them; "
            "a deleted key's is kept to show its owner who still sends it.",
            max_length=MAX_CLIENT_IP_LENGTH,
            formats=("ipv4", "ipv6"),
        ),
    )
    origin: str | None = field(
        default=None,
        metadata=describe(
            "Optional: your caller's `Origin` header or, failing that, its `Referer` (the path "
            "is ignored), e.g. `https://app.example.com`. A key with allowedOrigins is "
            "FORBIDDEN (ORIGIN_NOT_ALLOWED) without it or outside them. It is a header the "
            "caller chooses: abuse control, not authentication. `null` (an opaque origin) "
            "matches no allowed origin.",
            max_length=2048,
            pattern=ORIGIN_PATTERN,
        ),
    )


@dataclass(frozen=True)
class KeyVerification:
    """Whether the key may be used now. Only a valid answer names the key; an invalid one
    carries just `valid` and `code`."""

    valid: bool = field(metadata=describe("True exactly when `code` is VALID."))
    code: VerificationCode = field(
        metadata=describe(
            "VALID: usable now. MALFORMED: not a keyward token (wrong shape or checksum). "
            "NOT_FOUND: never issued, or deleted. EXPIRED: past its expiration (a rolled key "
            "after its grace period). FORBIDDEN: a live key, but not usable from this caller's "
            "address or origin (see `reason`)."
        )
    )
    reason: DenialReason | None = field(
        default=None,
        metadata=describe(
            "Only with FORBIDDEN: IP_NOT_ALLOWED (clientIp missing or outside the key's "
            "allowedCidrs) or ORIGIN_NOT_ALLOWED (origin missing or not in allowedOrigins)."
        ),
    )
    key_id: uuid.UUID | None = field(default=None, metadata=describe("The key's id."))
    organization_id: uuid.UUID | None = field(
        default=None, metadata=describe("The organization the key belongs to.")
    )
    type: ApiKeyType | None = field(default=None, metadata=describe("PUBLIC or SECRET."))
    name: str | None = field(default=None, metadata=describe("The key's name."))
    expires_at: datetime | None = field(
        default=None,
        metadata=describe("When the key stops working (ISO 8601, UTC); null when it never does."),
    )


_NAMING_FIELDS = frozenset({"key_id", "organization_id", "type", "name", "expires_at"})
_NO_REASON = frozenset({"reason"})
# Answers already serialised: the invalid ones are the same bytes every time, and a key in use
# is answered with the same bytes until it changes (its `Verification` is the cache's).
_INVALID_BODIES: dict[tuple[VerificationCode, DenialReason | None], bytes] = {}
_VALID_BODIES: dict[int, tuple[Verification, bytes]] = {}  # by the answer's identity
MAX_VALID_BODIES = 20_000  # about 500 bytes each; cleared, not evicted, when full


def _verification_body(result: Verification) -> dict[str, object]:
    answer = KeyVerification(
        valid=result.valid,
        code=result.code,
        key_id=result.key_id,
        organization_id=result.organization_id,
        type=result.type,
        name=result.name,
        expires_at=result.expires_at,
        reason=result.reason,
    )
    omit = _NO_REASON if result.valid else _NAMING_FIELDS
    if result.reason is None:
        omit = omit | _NO_REASON
    return to_json(answer, omit=omit)


def _body_bytes(result: Verification) -> bytes:
    if not result.valid:
        answer = (result.code, result.reason)
        body = _INVALID_BODIES.get(answer)
        if body is None:
            body = _INVALID_BODIES[answer] = json.dumps(_verification_body(result)).encode()
        return body
    found = _VALID_BODIES.get(id(result))
    if found is not None and found[0] is result:
        return found[1]
    body = json.dumps(_verification_body(result)).encode()
    if len(_VALID_BODIES) >= MAX_VALID_BODIES:
        _VALID_BODIES.clear()
    _VALID_BODIES[id(result)] = (result, body)
    return body


def _asked(body: dict[str, object]) -> VerifyRequest:
    """The request's fields; the common body (`key`, maybe `clientIp`, both short strings, no
    `origin`) without the general reader's per-field work (`api_key_verify` parses `clientIp`)."""
    key, client_ip = body.get("key"), body.get("clientIp")
    if (
        type(key) is str
        and len(key) <= MAX_TOKEN_LENGTH
        and "origin" not in body
        and (
            client_ip is None or (type(client_ip) is str and len(client_ip) <= MAX_CLIENT_IP_LENGTH)
        )
    ):
        return VerifyRequest(key=key, client_ip=client_ip)
    return from_json(VerifyRequest, body)


@dataclass(frozen=True, slots=True)
class Answer:
    """A verification's HTTP answer (always `charset=utf-8`, never cached), for aiohttp's route
    below and for the fast path in front of it (`web/fast_verify.py`) alike."""

    status: int
    body: bytes
    content_type: str = JSON


def _bad_request(detail: str) -> Answer:
    return Answer(400, problem_bytes(400, "Bad Request", detail), PROBLEM_JSON)


async def verification_answer(app: web.Application, raw: bytes) -> Answer:
    """The answer to a verification request whose JSON body is `raw`: a verdict, or a 400
    problem naming what is wrong with the body. Database errors are raised (the caller answers
    them with its 503)."""
    try:
        body = json_object(raw)
    except BadBody as error:
        return _bad_request(error.message)
    try:
        asked = _asked(body)
    except ShapeError as error:
        return _bad_request(str(error))
    try:
        result = await api_key_verify(
            token=asked.key,
            now=app[CLOCK](),
            client_ip=asked.client_ip,
            origin=asked.origin,
        )
    except InvalidInput as error:
        return _bad_request(" ".join(p.message for p in error.problems))
    verification_counted(result, asked.key)
    return Answer(200, _body_bytes(result))


async def verify_key(request: web.Request) -> web.Response:
    if not json_media_type(request.headers.get("Content-Type", "")):
        return problem(415, "Unsupported Media Type", "Send the body as application/json.")
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return problem(
            413, "Content Too Large", f"The body is larger than {request.client_max_size:,} bytes."
        )
    answer = await verification_answer(request.app, raw)
    return web.Response(
        body=answer.body,
        status=answer.status,
        content_type=answer.content_type,
        charset="utf-8",
        headers={"Cache-Control": "no-store"},
    )


VERIFY = Operation(
    summary="Verify an API key",
    description="Whether a key is usable now, for resource servers: call it on every request "
    "your API serves. Needs no credential; the key itself is the question. A 503 means "
    '"cannot tell now": fail closed, or retry once.',
    request=VerifyRequest,
    replies={
        200: Reply("The verdict, for a good or a bad key alike.", KeyVerification),
        **problems(
            {
                400: "The body is not JSON, has no string `key`, `key` is too long, or "
                "`clientIp` or `origin` is malformed (the detail names it).",
                413: "The body is larger than the server accepts.",
                415: "The body is not `application/json`.",
                503: "The database cannot answer now; retry after `Retry-After` seconds.",
            }
        ),
    },
)
