"""The verification fast path: `POST /v1/keys/verify` answered straight from the connection.

aiohttp's request machinery (a request object, the router, the middleware chain, a response
object and its signals) costs about 35 µs of CPU per request on a 2-core machine, more than a
verification answered from the cache costs in all. So keyward's listening sockets speak first
through `VerifyProtocol`: while a keep-alive connection sends nothing but the plain case of
`POST /v1/keys/verify` (HTTP/1.1, a JSON body of known length, no `Origin`, no
`Transfer-Encoding`, `Content-Encoding`, `Expect` or `Upgrade`), its requests are answered here,
through the same `verification_answer` as aiohttp's route, with the same bytes, headers,
metrics and access-log line. The first request that is anything else (another path, a bad or
unusual request, a body over the size limit, a CORS request) hands the connection, with every
byte not yet answered, to aiohttp's own protocol, which keeps it to the end and answers exactly
as it always has: nothing has been done for that request yet.

A verification that must wait (a cache miss, a cache bypass) runs on as a task; the
connection reads nothing more until it is answered, so answers keep the order of requests.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import re
import time
from collections.abc import Coroutine, Generator
from email.utils import formatdate
from http import HTTPStatus
from typing import Any, cast

from aiohttp import web
from aiohttp.http import SERVER_SOFTWARE
from aiohttp.tcp_helpers import tcp_keepalive
from aiohttp.web_server import Server

from models.database import database_enter
from schema.availability import UNAVAILABLE_MESSAGE
from telemetry.requests import request_id_choose, request_scope_enter
from web.access_log import ACCESS_LOG, AccessLogger, access_record
from web.media import json_media_type
from web.middlewares import RETRY_AFTER_SECONDS, unavailable_observed
from web.observe import VERIFY_ROUTE, observed
from web.problems import PROBLEM_JSON, problem_bytes
from web.state import DATABASE
from web.verify import Answer, verification_answer

log = logging.getLogger("keyward.http")

_REQUEST_LINE = b"POST " + VERIFY_ROUTE.encode() + b" HTTP/1.1\r\n"
MAX_HEAD_BYTES = 8190  # aiohttp's own bound on a header line
KNOWN_HEADS = 8  # header blocks remembered per connection
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_CONTROL = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
# Headers whose request aiohttp answers differently from the plain case: it gets them.
_HANDED_OVER = frozenset(
    {b"transfer-encoding", b"content-encoding", b"expect", b"upgrade", b"origin"}
)
_SERVER = SERVER_SOFTWARE.encode()
_UNAVAILABLE = Answer(
    503, problem_bytes(503, "Service Unavailable", UNAVAILABLE_MESSAGE), PROBLEM_JSON
)
_FAILED = Answer(
    500,
    problem_bytes(500, "Internal Server Error", "The server failed to answer; try again."),
    PROBLEM_JSON,
)


class _HandOver(Exception):
    """This request is not the plain case: aiohttp answers it."""


class _Request:
    __slots__ = ("size", "body", "request_id")

    def __init__(self, size: int, body: bytes, request_id: str | None) -> None:
        self.size, self.body, self.request_id = size, body, request_id


def _header_value(value: bytes) -> str:
    return value.decode("latin-1")


class _Head:
    """What the fast path needs of a request's header block."""

    __slots__ = ("length", "request_id")

    def __init__(self, length: int, request_id: str | None) -> None:
        self.length, self.request_id = length, request_id


def _head_parsed(head: bytes, max_body: int) -> _Head:
    """The header block (between the request line and the blank line) of a plain case;
    `_HandOver` for anything else."""
    length = content_type = request_id = None
    for line in head.split(b"\r\n"):
        name, colon, value = line.partition(b":")
        if not colon or not _TOKEN.fullmatch(name) or _CONTROL.search(value):
            raise _HandOver
        name, value = name.lower(), value.strip(b" \t")
        if name == b"content-length":
            if length is not None or not value.isdigit():
                raise _HandOver
            length = int(value)
        elif name == b"content-type":
            if content_type is not None:
                raise _HandOver
            content_type = value
        elif name == b"x-request-id":
            if request_id is not None:
                raise _HandOver
            request_id = value
        elif name == b"connection":
            if value.lower() != b"keep-alive":
                raise _HandOver
        elif name in _HANDED_OVER:
            raise _HandOver
    if length is None or length > max_body or content_type is None:
        raise _HandOver
    if not json_media_type(_header_value(content_type)):
        raise _HandOver
    return _Head(length, None if request_id is None else _header_value(request_id))


def _parsed(buffer: bytearray, max_body: int, known: dict[bytes, _Head]) -> _Request | None:
    """The first request in `buffer` when it is whole; None while it is incomplete;
    `_HandOver` when it is not the plain case. `known`: header blocks this connection sent
    before (a client repeats its headers: most requests parse nothing)."""
    if not buffer.startswith(_REQUEST_LINE):
        if len(buffer) < len(_REQUEST_LINE) and _REQUEST_LINE.startswith(buffer):
            return None
        raise _HandOver
    end = buffer.find(b"\r\n\r\n", len(_REQUEST_LINE) - 2, MAX_HEAD_BYTES)
    if end < 0:
        if len(buffer) >= MAX_HEAD_BYTES:
            raise _HandOver
        return None
    block = bytes(buffer[len(_REQUEST_LINE) : end])
    head = known.get(block)
    if head is None:
        head = _head_parsed(block, max_body)
        if len(known) >= KNOWN_HEADS:
            known.clear()
        known[block] = head
    start = end + 4
    size = start + head.length
    if len(buffer) < size:
        return None
    return _Request(size, bytes(buffer[start:size]), head.request_id)


class _Date:
    """The `Date` header's value, formatted once a second."""

    second = -1
    value = b""

    @classmethod
    def now(cls) -> bytes:
        second = int(time.time())
        if second != cls.second:
            cls.second, cls.value = second, formatdate(second, usegmt=True).encode()
        return cls.value


def _head(answer: Answer, request_id: str) -> bytes:
    status = answer.status
    retry = b"Retry-After: " + RETRY_AFTER_SECONDS.encode() + b"\r\n" if status == 503 else b""
    return b"".join(
        (
            b"HTTP/1.1 %d %s\r\n" % (status, HTTPStatus(status).phrase.encode()),
            b"Cache-Control: no-store\r\n",
            b"Content-Type: %s; charset=utf-8\r\n" % answer.content_type.encode(),
            b"Content-Length: %d\r\n" % len(answer.body),
            b"Date: %s\r\n" % _Date.now(),
            b"Server: %s\r\n" % _SERVER,
            b"X-Content-Type-Options: nosniff\r\n",
            b"Vary: Origin\r\n",
            retry,
            b"X-Request-Id: %s\r\n\r\n" % request_id.encode(),
        )
    )


class _Resumed:
    """Awaits the rest of a coroutine that has already run up to its first suspension (it
    yielded `waiting`): what a task would have done had it run the coroutine from the start."""

    __slots__ = ("coroutine", "waiting")

    def __init__(self, coroutine: Coroutine[Any, Any, Answer], waiting: Any) -> None:
        self.coroutine, self.waiting = coroutine, waiting

    def __await__(self) -> Generator[Any, Any, Answer]:
        coroutine, waiting = self.coroutine, self.waiting
        while True:
            try:
                sent = yield waiting
            except GeneratorExit:
                coroutine.close()
                raise
            except BaseException as error:  # cancellation: the coroutine decides
                try:
                    waiting = coroutine.throw(error)
                except StopIteration as done:
                    return cast(Answer, done.value)
                continue
            try:
                waiting = coroutine.send(sent)
            except StopIteration as done:
                return cast(Answer, done.value)


async def _resumed(coroutine: Coroutine[Any, Any, Answer], waiting: Any) -> Answer:
    return await _Resumed(coroutine, waiting)


class VerifyServer:
    """aiohttp's `Server` with the fast path in front: the protocol factory keyward's sites
    listen with. Everything else is aiohttp's server's (shutdown closes both kinds of
    connection)."""

    def __init__(self, server: Server, app: web.Application) -> None:
        self.server = server
        self.app = app
        self.database = app[DATABASE]
        self.max_body = app._client_max_size
        kwargs = getattr(server, "_kwargs", {})
        self.keepalive_timeout = float(kwargs.get("keepalive_timeout", 3630.0))
        self.protocols: set[VerifyProtocol] = set()
        self.answered = 0  # requests this fast path answered (tests and the benchmark read it)

    def __call__(self) -> asyncio.Protocol:
        return VerifyProtocol(self)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.server, name)

    async def verification(self, raw: bytes, request_id: str) -> Answer:
        """Runs in a context of its own (`VerifyProtocol._answer`), so it enters the request's
        scope and the database without undoing either."""
        request_scope_enter(request_id)
        database_enter(self.database)
        try:
            return await verification_answer(self.app, raw)
        except Exception as error:
            if not unavailable_observed("POST", VERIFY_ROUTE, error):
                raise
            return _UNAVAILABLE

    def pre_shutdown(self) -> None:
        for protocol in list(self.protocols):
            protocol.close_when_idle()
        self.server.pre_shutdown()

    async def shutdown(self, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (timeout if timeout is not None else 60.0)
        while any(p.busy for p in self.protocols) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        for protocol in list(self.protocols):
            protocol.close()
        await self.server.shutdown(timeout)


class VerifyProtocol(asyncio.Protocol):
    """One connection, while it asks only for verifications (see the module's docstring)."""

    def __init__(self, owner: VerifyServer) -> None:
        self.owner = owner
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.known: dict[bytes, _Head] = {}
        self.remote = ""
        self.busy = False  # a verification is waiting (for the database)
        self.paused = False  # the peer is not reading what we write
        self.closing = False
        self.eof = False
        self.active = time.monotonic()
        self.idle: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        tcp_keepalive(self.transport)
        peer = transport.get_extra_info("peername")
        self.remote = str(peer[0]) if isinstance(peer, tuple | list) and peer else ""
        self.owner.protocols.add(self)
        self._watch_idle()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self.owner.protocols.discard(self)
        if self.idle is not None:
            self.idle.cancel()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self.active = time.monotonic()
        self._serve()

    def eof_received(self) -> bool | None:
        self.eof = True
        return True if self.busy else None  # answer what is in hand, then close

    def pause_writing(self) -> None:
        self.paused = True

    def resume_writing(self) -> None:
        self.paused = False
        self._serve()

    def close_when_idle(self) -> None:
        self.closing = True
        if not self.busy:
            self.close()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def _watch_idle(self) -> None:
        loop = asyncio.get_running_loop()
        timeout = self.owner.keepalive_timeout
        self.idle = loop.call_at(loop.time() + timeout, self._idle_check)

    def _idle_check(self) -> None:
        if self.busy or time.monotonic() - self.active < self.owner.keepalive_timeout:
            self._watch_idle()
        else:
            self.close()

    def _serve(self) -> None:
        while (
            self.buffer
            and not (self.busy or self.paused or self.closing)
            and self.transport is not None
        ):
            try:
                request = _parsed(self.buffer, self.owner.max_body, self.known)
            except _HandOver:
                self._hand_over()
                return
            if request is None:
                return
            del self.buffer[: request.size]
            self._answer(request)
        if self.closing and not self.busy:
            self.close()

    def _answer(self, request: _Request) -> None:
        started = time.perf_counter()
        request_id = request_id_choose(request.request_id)
        context = contextvars.copy_context()
        coroutine = self.owner.verification(request.body, request_id)
        try:
            waiting = context.run(coroutine.send, None)
        except StopIteration as done:
            self._write(cast(Answer, done.value), request_id, started)
            return
        except Exception:
            log.exception("verification failed: request_id=%s", request_id)
            self._write(_FAILED, request_id, started)
            self.closing = True
            return
        self.busy = True
        assert self.transport is not None
        self.transport.pause_reading()
        task = asyncio.get_running_loop().create_task(
            _resumed(coroutine, waiting), context=context
        )
        task.add_done_callback(lambda done: self._answered(done, request_id, started))

    def _answered(self, task: asyncio.Task[Answer], request_id: str, started: float) -> None:
        self.busy = False
        if task.cancelled():
            self.close()
            return
        error = task.exception()
        if error is not None:
            log.error("verification failed: request_id=%s", request_id, exc_info=error)
            self._write(_FAILED, request_id, started)
            self.close()
            return
        self._write(task.result(), request_id, started)
        if self.transport is None:
            return
        if self.eof and not self.buffer:
            self.close()
            return
        self.transport.resume_reading()
        self._serve()

    def _write(self, answer: Answer, request_id: str, started: float) -> None:
        transport = self.transport
        if transport is None:  # the client left; the verification still counted
            return
        head = _head(answer, request_id)
        transport.write(head + answer.body)
        self.owner.answered += 1
        seconds = time.perf_counter() - started
        observed("POST", VERIFY_ROUTE, answer.status, seconds)
        if ACCESS_LOG.isEnabledFor(logging.INFO):
            size = len(head) + len(answer.body)
            line = ("POST", VERIFY_ROUTE, VERIFY_ROUTE, answer.status, size, seconds * 1000)
            ACCESS_LOG.handle(access_record((*line, self.remote), request_id))

    def _hand_over(self) -> None:
        """From now on aiohttp serves this connection, starting with the bytes in hand."""
        transport = self.transport
        assert transport is not None
        self.owner.protocols.discard(self)
        if self.idle is not None:
            self.idle.cancel()
        handler = self.owner.server()
        transport.set_protocol(handler)
        handler.connection_made(transport)
        self.transport = None
        if self.buffer:
            handler.data_received(bytes(self.buffer))
            self.buffer.clear()
        if self.eof:
            handler.eof_received()
        if self.paused:
            handler.pause_writing()


class KeywardRunner(web.AppRunner):
    """aiohttp's `AppRunner` whose sites listen through the fast path, with keyward's access
    log."""

    def __init__(self, app: web.Application, **kwargs: Any) -> None:
        kwargs.setdefault("access_log_class", AccessLogger)
        super().__init__(app, **kwargs)

    async def _make_server(self) -> Server:
        server = await super()._make_server()
        return cast(Server, VerifyServer(server, self.app))
