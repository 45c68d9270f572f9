"""The request in hand, for log lines and metrics recorded deep inside it.

The HTTP edge opens a `RequestScope` around each request (`request_scope`); everything that
runs for that request, the GraphQL resolvers and the domain included, sees it through a
contextvar, so a log line anywhere carries the request's id without passing it along.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

# A client's id is kept when it is 1-128 of these: safe in a header, a log line and JSON. No
# underscore, so no keyward token (`sk_…`) can ever pass for a request id.
_CLIENT_ID = re.compile(r"[A-Za-z0-9.:@/+=-]{1,128}")


@dataclass
class RequestScope:
    request_id: str
    # Set once the GraphQL layer has counted this request's operation (so the edge does not).
    graphql_counted: bool = False


# Random bytes for new ids, drawn from `secrets` a few kilobytes at a time: one system call per
# 256 requests instead of one each (an id names a request; it guards nothing).
_ID_BYTES = 16
_RANDOM_CHUNK = 4096
_random = bytearray()


def _new_id() -> str:
    if not _random:
        _random.extend(secrets.token_bytes(_RANDOM_CHUNK))
    chunk = _random[-_ID_BYTES:]
    del _random[-_ID_BYTES:]
    return chunk.hex()


os.register_at_fork(after_in_child=_random.clear)  # workers draw their own

_SCOPE: ContextVar[RequestScope | None] = ContextVar("keyward_request", default=None)


def request_id_choose(offered: str | None) -> str:
    """The client's `X-Request-Id` when it is 1-128 safe characters, else a new random one."""
    if offered is not None and _CLIENT_ID.fullmatch(offered):
        return offered
    return _new_id()


def current_scope() -> RequestScope | None:
    return _SCOPE.get()


def current_request_id() -> str | None:
    scope = _SCOPE.get()
    return None if scope is None else scope.request_id


def request_scope_enter(request_id: str) -> None:
    """Open the scope for the rest of the current context, with no reset: for a request that
    runs in a context of its own (`contextvars.copy_context()`), discarded with it."""
    _SCOPE.set(RequestScope(request_id=request_id))


@contextmanager
def request_scope(request_id: str) -> Iterator[RequestScope]:
    scope = RequestScope(request_id=request_id)
    token = _SCOPE.set(scope)
    try:
        yield scope
    finally:
        _SCOPE.reset(token)
