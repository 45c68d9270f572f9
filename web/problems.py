"""RFC 9457 problem documents: the error shape of keyward's REST endpoints."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from aiohttp import web

from web.shapes import describe, to_json

PROBLEM_JSON = "application/problem+json"


@dataclass(frozen=True)
class Problem:
    """An RFC 9457 problem document: why a REST request was not answered."""

    type: str = field(metadata=describe("Always `about:blank`: the status code says it all."))
    title: str = field(metadata=describe("The HTTP status's reason phrase."))
    status: int = field(metadata=describe("The HTTP status code, repeated."))
    detail: str = field(metadata=describe("What was wrong with this request, for a person."))


def problem_bytes(status: int, title: str, detail: str) -> bytes:
    """The problem document's JSON, as `problem` sends it."""
    document = Problem(type="about:blank", title=title, status=status, detail=detail)
    return json.dumps(to_json(document)).encode()


def problem(
    status: int, title: str, detail: str, *, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        body=problem_bytes(status, title, detail),
        status=status,
        content_type=PROBLEM_JSON,
        charset="utf-8",
        headers=headers,
    )
