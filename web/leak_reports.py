"""`POST /v1/keys/report-leak {"tokens": [...]}`: for anyone who finds a keyward token in public.

No credential (the finder is rarely the owner), limited per client address
(`LEAK_REPORTS_PER_HOUR`, `models.leak_report_limits`). Each token that is a live secret key is
handled like a GitHub match (`models.leaks`), by actor REPORTER with source `report`; every other
token is ignored. The answer is 202 with the same body whatever matched, so the endpoint tells
nobody which tokens exist.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from models.audit import Actor, ActorType
from models.leak_report_limits import TooManyLeakReports, leak_report_admit
from models.leaks import LeakReport, leaks_report
from models.tokens import MAX_TOKEN_LENGTH
from web.bodies import BadBody, json_object
from web.client import client_address
from web.media import json_media_type
from web.problems import problem
from web.request_context import request_context
from web.rest import Operation, Reply, problems
from web.state import CLOCK, SETTINGS

MAX_REPORTED_TOKENS = 100
REPORTER = Actor(ActorType.REPORTER, None, "leak report")
REPORT_TYPE = "keyward_report"


def _tokens(body: dict[str, Any]) -> list[str]:
    tokens = body.get("tokens")
    if not isinstance(tokens, list) or not 1 <= len(tokens) <= MAX_REPORTED_TOKENS:
        raise BadBody(f'The body needs "tokens": an array of 1 to {MAX_REPORTED_TOKENS} strings.')
    if not all(isinstance(token, str) and len(token) <= MAX_TOKEN_LENGTH for token in tokens):
        raise BadBody(f"Each token must be a string of at most {MAX_TOKEN_LENGTH} characters.")
    return tokens


async def report_leak(request: web.Request) -> web.Response:
    if not json_media_type(request.headers.get("Content-Type", "")):
        return problem(415, "Unsupported Media Type", "Send the body as application/json.")
    try:
        tokens = _tokens(json_object(await request.read()))
    except web.HTTPRequestEntityTooLarge:
        return problem(
            413, "Content Too Large", f"The body is larger than {request.client_max_size:,} bytes."
        )
    except BadBody as error:
        return problem(400, "Bad Request", error.message)
    settings, now = request.app[SETTINGS], request.app[CLOCK]()
    try:
        await leak_report_admit(
            client_address=client_address(request, settings.trusted_proxy_hops),
            now=now,
            limit=settings.leak_reports_per_hour,
        )
    except TooManyLeakReports as error:
        return problem(
            429,
            "Too Many Requests",
            error.message,
            headers={"Retry-After": str(error.retry_after_seconds)},
        )
    await leaks_report(
        reports=[LeakReport(token, REPORT_TYPE, None, "report") for token in tokens],
        reporter=REPORTER,
        mail=settings.policies().teams.mail,
        now=now,
        live_secret_keys_only=True,
        context=request_context(request, settings.trusted_proxy_hops),
    )
    return web.json_response(
        {"received": len(tokens)}, status=202, headers={"Cache-Control": "no-store"}
    )


REPORT_LEAK = Operation(
    summary="Report leaked keyward tokens",
    description="For anyone who finds keyward tokens in public: a secret key among them is "
    "revoked at once (unless its organization's leakPolicy is NOTIFY) and its owners are mailed. "
    "Needs no credential; limited per client address. The answer is the same whatever the tokens "
    "are.",
    request_schema={
        "type": "object",
        "description": "The tokens found.",
        "properties": {
            "tokens": {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_REPORTED_TOKENS,
                "items": {"type": "string", "maxLength": MAX_TOKEN_LENGTH},
                "description": "The tokens exactly as found.",
            }
        },
        "required": ["tokens"],
    },
    replies={
        202: Reply(
            "Received; the same answer whatever the tokens are.",
            schema={
                "type": "object",
                "properties": {
                    "received": {"type": "integer", "description": "How many tokens were sent."}
                },
                "required": ["received"],
            },
        ),
        **problems(
            {
                400: 'The body is not JSON, or "tokens" is not an array of 1 to 100 strings.',
                413: "The body is larger than the server accepts.",
                415: "The body is not `application/json`.",
                429: "Too many reports from this address; retry after `Retry-After` seconds.",
                503: "The database cannot answer now; retry after `Retry-After` seconds.",
            }
        ),
    },
)
