"""`POST /v1/secret-scanning/github`: GitHub's secret-scanning partner endpoint.

GitHub posts a JSON array of matches (`{token, type, url, source}`) signed over the raw body:
`Github-Public-Key-Identifier` names one of its keys (`web.github_keys`), and
`Github-Public-Key-Signature` is the base64 DER ECDSA P-256 SHA-256 signature. A request whose
signature does not check is answered 401 before the body is even parsed: nothing is done. A signed
one is handed to `models.leaks` and answered with GitHub's feedback array, per match
`{token_hash, token_type, label}`.
"""

from __future__ import annotations

import base64
import binascii
import logging
from typing import Any

from aiohttp import web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from models.audit import Actor, ActorType
from models.leaks import MAX_SOURCE_LENGTH, MAX_URL_LENGTH, LeakReport, leaks_report
from models.tokens import MAX_TOKEN_LENGTH
from web.bodies import BadBody, json_value, single_header
from web.github_keys import KeysUnavailable
from web.problems import problem
from web.request_context import request_context
from web.rest import Operation, Reply, problems
from web.state import CLOCK, GITHUB_KEYS, SETTINGS

log = logging.getLogger("keyward.secret_scanning")

IDENTIFIER_HEADER = "Github-Public-Key-Identifier"
SIGNATURE_HEADER = "Github-Public-Key-Signature"
# GitHub batches matches; a thousand tokens with their URLs are ~250 KB.
MAX_GITHUB_BODY_BYTES = 4 << 20
MAX_MATCHES = 10_000
GITHUB = Actor(ActorType.GITHUB, None, "GitHub secret scanning")
_RETRY_SECONDS = "60"


class _Unsigned(Exception):
    """The request is not signed by GitHub; the message says why, for the sender."""


async def _raw_body(request: web.Request, limit: int) -> bytes:
    """The body as sent (the signature covers these bytes), up to `limit` bytes."""
    declared = request.content_length or 0
    if declared > limit:
        raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=declared)
    body = bytearray()
    async for chunk in request.content.iter_chunked(1 << 16):
        body += chunk
        if len(body) > limit:
            raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=len(body))
    return bytes(body)


async def _check_signature(request: web.Request, raw: bytes) -> None:
    try:
        identifier = single_header(request.headers, IDENTIFIER_HEADER)
        signature = single_header(request.headers, SIGNATURE_HEADER)
    except BadBody as error:
        raise _Unsigned(error.message) from None
    if not identifier or not signature:
        raise _Unsigned(f"Send {IDENTIFIER_HEADER} and {SIGNATURE_HEADER}.")
    try:
        der = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        raise _Unsigned(f"{SIGNATURE_HEADER} is not base64.") from None
    key = await request.app[GITHUB_KEYS].key(identifier[:200])
    if key is None:
        raise _Unsigned(f"{IDENTIFIER_HEADER} names no key of GitHub's.")
    try:
        key.verify(der, raw, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise _Unsigned("The signature does not match the body.") from None


def _matches(body: Any) -> list[LeakReport]:
    if not isinstance(body, list) or len(body) > MAX_MATCHES:
        raise BadBody(f"The body must be a JSON array of at most {MAX_MATCHES} matches.")
    reports = []
    for match in body:
        if not isinstance(match, dict) or not isinstance(match.get("token"), str):
            raise BadBody('Each match must be an object with a string "token".')
        fields = [match.get(name) for name in ("type", "url", "source")]
        if not all(value is None or isinstance(value, str) for value in fields):
            raise BadBody('"type", "url" and "source" must be strings.')
        type, url, source = fields
        reports.append(LeakReport(match["token"], type or "", url, source or "unknown"))
    return reports


async def github_secret_scanning(request: web.Request) -> web.Response:
    try:
        raw = await _raw_body(request, MAX_GITHUB_BODY_BYTES)
    except web.HTTPRequestEntityTooLarge:
        return problem(413, "Content Too Large", f"The body is over {MAX_GITHUB_BODY_BYTES} bytes.")
    try:
        await _check_signature(request, raw)
    except _Unsigned as error:
        return problem(401, "Unauthorized", str(error))
    except KeysUnavailable as error:
        log.warning("GitHub's secret-scanning keys are unavailable: %s", error)
        return problem(
            503,
            "Service Unavailable",
            "GitHub's signing keys cannot be loaded now; retry later.",
            headers={"Retry-After": _RETRY_SECONDS},
        )
    try:
        reports = _matches(json_value(raw))
    except BadBody as error:
        return problem(400, "Bad Request", error.message)
    feedback = await leaks_report(
        reports=reports,
        reporter=GITHUB,
        mail=request.app[SETTINGS].policies().teams.mail,
        now=request.app[CLOCK](),
        context=request_context(request, request.app[SETTINGS].trusted_proxy_hops),
    )
    return web.json_response(
        [
            {"token_hash": item.token_hash, "token_type": item.token_type, "label": item.label}
            for item in feedback
        ],
        headers={"Cache-Control": "no-store"},
    )


_MATCH = {
    "type": "object",
    "description": "One match of a keyward token found in public.",
    "properties": {
        "token": {"type": "string", "maxLength": MAX_TOKEN_LENGTH, "description": "The token."},
        "type": {"type": "string", "description": "The token type registered with GitHub."},
        "url": {
            "type": "string",
            "maxLength": MAX_URL_LENGTH,
            "description": "Where GitHub found it.",
        },
        "source": {
            "type": "string",
            "maxLength": MAX_SOURCE_LENGTH,
            "description": "What kind of place: content, commit, pull_request_comment, gist, …",
        },
    },
    "required": ["token"],
}
_FEEDBACK = {
    "type": "array",
    "description": "GitHub's feedback: one entry per match, in order.",
    "items": {
        "type": "object",
        "properties": {
            "token_hash": {"type": "string", "description": "SHA-256 of the token, in hex."},
            "token_type": {"type": "string", "description": "The match's `type`, repeated."},
            "label": {
                "type": "string",
                "enum": ["true_positive", "false_positive"],
                "description": "true_positive: a keyward key (live, or deleted and remembered).",
            },
        },
        "required": ["token_hash", "token_type", "label"],
    },
}
_HEADERS = tuple(
    {
        "name": name,
        "in": "header",
        "required": True,
        "description": text,
        "schema": {"type": "string"},
    }
    for name, text in (
        (IDENTIFIER_HEADER, "The `key_identifier` of the GitHub key that signed the body."),
        (SIGNATURE_HEADER, "Base64 DER ECDSA P-256 SHA-256 signature of the raw body."),
    )
)

GITHUB_SECRET_SCANNING = Operation(
    summary="GitHub secret scanning (partner endpoint)",
    description="Where GitHub's secret-scanning partner program posts keyward tokens it found in "
    "public. Signed by GitHub; a leaked secret key is revoked at once unless the organization's "
    "leakPolicy is NOTIFY, and the OWNERs and ADMINs are mailed.",
    request_schema={"type": "array", "items": _MATCH},
    parameters=_HEADERS,
    replies={
        200: Reply("The feedback on each match.", schema=_FEEDBACK),
        **problems(
            {
                400: "The body is not an array of matches.",
                401: "The signature headers are missing, or do not check against the raw body.",
                413: "The body is larger than the server accepts.",
                503: "GitHub's signing keys cannot be loaded now; retry after `Retry-After`.",
            }
        ),
    },
)
