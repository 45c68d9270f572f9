"""RFC 9457 problem documents: the error shape of keyward's REST endpoints."""

from __future__ import annotations

from aiohttp import web

PROBLEM_JSON = "application/problem+json"


def problem(
    status: int, title: str, detail: str, *, headers: dict[str, str] | None = None
) -> web.Response:
    return web.json_response(
        {"type": "about:blank", "title": title, "status": status, "detail": detail},
        status=status,
        content_type=PROBLEM_JSON,
        headers=headers,
    )
