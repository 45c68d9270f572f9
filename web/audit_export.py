"""`GET /v1/organizations/{id}/audit-events`: the audit log for SIEMs and auditors.

Authenticated by a session (OWNER or ADMIN) or a secret key of that organization, as
`Authorization: Bearer …`. `Accept: application/x-ndjson` (the default) or `text/csv`; `since` and
`until` (ISO 8601 with an offset) bound it. Oldest first, each line with `previousHash` and `hash`
(see `models.audit`), streamed in chunks: memory stays flat whatever the log's length.

CSV cells that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR first) are
prefixed with `'`; verify the chain on the NDJSON form, which is exactly what was hashed.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import datetime
from typing import Any

from aiohttp import web

from models.access import AuthFailure, Permission, authenticate, organization_access
from models.audit_log import audit_events_export
from models.clock import as_utc
from models.errors import Forbidden
from web.problems import problem
from web.rest import Operation, Reply, problems
from web.state import NOW

NDJSON = "application/x-ndjson"
CSV = "text/csv"
CSV_COLUMNS = (
    "id", "sequence", "occurredAt", "action", "actorType", "actorId", "actorName", "targetType",
    "targetId", "targetName", "clientAddress", "userAgent", "requestId", "details",
    "previousHash", "hash",
)  # fmt: skip
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _moment(request: web.Request, name: str) -> datetime | None:
    raw = request.query.get(name)
    if raw is None:
        return None
    try:
        return as_utc(datetime.fromisoformat(raw))
    except (ValueError, OverflowError):
        raise web.HTTPBadRequest() from None


def _csv_row(event: dict[str, Any]) -> list[str]:
    actor, target = event["actor"], event["target"] or {}
    values = [
        event["id"], event["sequence"], event["occurredAt"], event["action"], actor["type"],
        actor["id"], actor["name"], target.get("type"), target.get("id"), target.get("name"),
        event["clientAddress"], event["userAgent"], event["requestId"],
        None if event["details"] is None else json.dumps(event["details"], sort_keys=True),
        event["previousHash"], event["hash"],
    ]  # fmt: skip
    cells = ["" if value is None else str(value) for value in values]
    return ["'" + cell if cell.startswith(_FORMULA) else cell for cell in cells]


async def audit_events_download(request: web.Request) -> web.StreamResponse:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return problem(401, "Unauthorized", "Send a session or a secret key as a bearer token.")
    now = request[NOW]
    principal = await authenticate(token.strip(), now=now)
    if isinstance(principal, AuthFailure):
        return problem(401, "Unauthorized", "The bearer token is unknown, ended or malformed.")
    try:
        organization_id = uuid.UUID(request.match_info["id"])
        access = await organization_access(principal, organization_id, Permission.VIEW_AUDIT_LOG)
    except ValueError:
        access = None
    except Forbidden as error:
        return problem(403, "Forbidden", error.message)
    if access is None:
        return problem(404, "Not Found", "No such organization.")
    try:
        since, until = _moment(request, "since"), _moment(request, "until")
    except web.HTTPBadRequest:
        return problem(400, "Bad Request", "since and until take ISO 8601 with an offset.")
    as_csv = CSV in request.headers.get("Accept", "") and NDJSON not in request.headers.get(
        "Accept", ""
    )
    response = web.StreamResponse(
        headers={
            "Content-Type": f"{CSV}; charset=utf-8" if as_csv else NDJSON,
            "Content-Disposition": (
                f'attachment; filename="audit-{organization_id}.{"csv" if as_csv else "ndjson"}"'
            ),
        }
    )
    await response.prepare(request)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if as_csv:
        writer.writerow(CSV_COLUMNS)
    async for event in audit_events_export(access=access, since=since, until=until):
        if as_csv:
            writer.writerow(_csv_row(event))
        else:
            buffer.write(json.dumps(event, sort_keys=True, separators=(",", ":")) + "\n")
        if buffer.tell() >= 64 * 1024:
            await response.write(buffer.getvalue().encode())
            buffer.seek(0)
            buffer.truncate()
    await response.write(buffer.getvalue().encode())
    await response.write_eof()
    return response


def _moment_parameter(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": {"type": "string", "format": "date-time"},
    }


AUDIT_EVENTS = Operation(
    summary="Export the audit log",
    description="An organization's audit events, oldest first, streamed: NDJSON (the default) or "
    "CSV (`Accept: text/csv`). Each event carries `previousHash` and `hash`, "
    "`hash = SHA-256(previousHash ‖ canonical JSON of the event)`, so the export proves itself "
    "complete and unaltered (the README has a ten-line check). Needs `Authorization: Bearer` "
    "with a session of an OWNER or ADMIN, or a secret key of the organization.",
    parameters=(
        {
            "name": "id",
            "in": "path",
            "required": True,
            "description": "The organization's id.",
            "schema": {"type": "string", "format": "uuid"},
        },
        _moment_parameter("since", "Only events at or after this instant (ISO 8601, offset)."),
        _moment_parameter("until", "Only events before this instant (ISO 8601, offset)."),
    ),
    replies={
        200: Reply(
            "One event per line, oldest first.",
            media_type=NDJSON,
            schema={"type": "object", "required": ["id", "action", "previousHash", "hash"]},
        ),
        **problems(
            {
                400: "`since` or `until` is not an ISO 8601 instant with an offset.",
                401: "No credential, or one that is unknown, ended or malformed.",
                403: "The credential may see the organization but not its audit log.",
                404: "No such organization, or not one the credential may see.",
                503: "The database cannot answer now; retry after `Retry-After` seconds.",
            }
        ),
    },
)
