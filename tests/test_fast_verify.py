"""The verification fast path (`web/fast_verify.py`): plain `POST /v1/keys/verify` requests are
answered straight from the connection, byte for byte as aiohttp's route answers them; anything
else goes to aiohttp, on the same connection, as if the fast path were not there.

Every other test that verifies over HTTP goes through it too (the `client` fixture serves with
`KeywardRunner`, as `server.py serve` does); these tests speak raw HTTP/1.1 to look at what the
fast path alone decides: what it keeps, what it hands over, the order of answers, and the
headers."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, cast

import pytest
from aiohttp.test_utils import TestClient

from tests.harness import Api
from tests.support import delete, mistyped, unknown_token
from web.fast_verify import VerifyServer

VERIFY = "/v1/keys/verify"
# Headers that differ between any two answers.
PER_ANSWER = {"date", "x-request-id"}


class Reply:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    def json(self) -> Any:
        return json.loads(self.body)

    def shape(self) -> tuple[int, dict[str, str], bytes]:
        kept = {name: value for name, value in self.headers.items() if name not in PER_ANSWER}
        return self.status, kept, self.body


def request(body: bytes, *, path: str = VERIFY, extra: str = "", chunked: bool = False) -> bytes:
    head = f"POST {path} HTTP/1.1\r\nHost: keyward.test\r\nContent-Type: application/json\r\n"
    if chunked:
        framed = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body) if body else b"0\r\n\r\n"
        return (head + "Transfer-Encoding: chunked\r\n" + extra + "\r\n").encode() + framed
    return (head + f"Content-Length: {len(body)}\r\n" + extra + "\r\n").encode() + body


def verify_body(token: str, **more: Any) -> bytes:
    return json.dumps({"key": token, **more}).encode()


class Connection:
    """One raw HTTP/1.1 connection to the test server."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, client: TestClient[Any, Any]) -> Connection:
        server = client.server
        reader, writer = await asyncio.open_connection(server.host, server.port)
        return cls(reader, writer)

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def reply(self) -> Reply:
        """The next final answer (an interim `100 Continue` is read past)."""
        while (reply := await self._reply()).status < 200:
            pass
        return reply

    async def _reply(self) -> Reply:
        status_line = await asyncio.wait_for(self.reader.readline(), 5)
        assert status_line.startswith((b"HTTP/1.1 ", b"HTTP/1.0 ")), status_line
        headers: dict[str, str] = {}
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        body = await self.reader.readexactly(int(headers.get("content-length", "0")))
        return Reply(int(status_line.split()[1]), headers, body)

    async def ask(self, data: bytes) -> Reply:
        await self.send(data)
        return await self.reply()

    async def closed(self) -> bool:
        return await asyncio.wait_for(self.reader.read(1), 5) == b""

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


def fast(client: TestClient[Any, Any]) -> VerifyServer:
    runner = client.server.runner
    assert runner is not None
    return cast(VerifyServer, runner.server)


async def through_aiohttp(client: TestClient[Any, Any], body: bytes) -> Reply:
    """The same request, chunked: the fast path hands it to aiohttp's route as it is."""
    connection = await Connection.open(client)
    try:
        return await connection.ask(request(body, chunked=True))
    finally:
        await connection.close()


async def test_the_fast_path_answers_exactly_as_aiohttp_would(api: Api) -> None:
    # given a key, a deleted key, and every kind of answer a verification body can get
    account = await api.sign_up()
    _, token = await api.create_key(account, name="billing")
    deleted, deleted_token = await api.create_key(account)
    await delete(api, account.session, deleted["id"])
    bodies = [
        verify_body(token),
        verify_body(token, clientIp="203.0.113.7"),
        verify_body(account.default_key["token"]),
        verify_body(deleted_token),
        verify_body(unknown_token()),
        verify_body(mistyped(token)),
        verify_body("x" * 600),
        verify_body(token, clientIp="not an address"),
        verify_body(token, origin="https://app.example.com"),
        b"{}",
        b"[1]",
        b'{"key": 5}',
        b"not json",
        b'{"key": "\xff"}',
        b"",
    ]
    connection = await Connection.open(api.client)
    before = fast(api.client).answered
    for body in bodies:
        # when the same body is asked on a fast connection and through aiohttp's route
        mine = await connection.ask(request(body))
        theirs = await through_aiohttp(api.client, body)
        # then the answers are the same, bytes and headers, but for the date and request id
        assert mine.shape() == theirs.shape(), body
        assert mine.headers["x-request-id"] != theirs.headers["x-request-id"]
    # and the fast connection's were all answered by the fast path, on one connection
    assert fast(api.client).answered - before == len(bodies)
    assert (await connection.ask(request(verify_body(token)))).status == 200
    await connection.close()


async def test_what_is_not_a_plain_verification_goes_to_aiohttp_on_the_same_connection(
    api: Api,
) -> None:
    # given a connection that has had a verification answered by the fast path
    account = await api.sign_up()
    connection = await Connection.open(api.client)
    answered = fast(api.client).answered
    first = await connection.ask(request(verify_body(account.default_key["token"])))
    assert first.json()["code"] == "VALID"
    assert fast(api.client).answered == answered + 1
    # when it sends a GraphQL request, and then verifications again
    graphql = await connection.ask(request(b'{"query": "{ __typename }"}', path="/graphql"))
    after = await connection.ask(request(verify_body(account.default_key["token"])))
    wrong_type = await connection.ask(
        request(b"{}").replace(b"Content-Type: application/json", b"Content-Type: text/plain")
    )
    # then aiohttp answered them all, on that same connection
    assert graphql.status == 200 and json.loads(graphql.body) == {"data": {"__typename": "Query"}}
    assert after.json()["code"] == "VALID"
    assert wrong_type.status == 415
    assert wrong_type.headers["content-type"] == "application/problem+json; charset=utf-8"
    assert fast(api.client).answered == answered + 1
    await connection.close()


@pytest.mark.parametrize(
    ("name", "data", "status"),
    [
        ("text/plain", request(b"{}").replace(b"application/json", b"text/plain"), 415),
        ("no type", request(b"{}").replace(b"Content-Type: application/json", b"X: 1"), 415),
        ("a body over the limit", request(b" " * (64 * 1024 + 1)), 413),
        ("Expect: 100-continue", request(b"{}", extra="Expect: 100-continue\r\n"), 400),
        ("Content-Length twice", request(b"{}", extra="Content-Length: 2\r\n"), 400),
        ("a header name with a space", request(b"{}", extra="X Bad: 1\r\n"), 400),
        ("a folded header", request(b"{}", extra="X-A: 1\r\n continued\r\n"), 400),
        ("HTTP/1.0", request(b"{}").replace(b"HTTP/1.1", b"HTTP/1.0"), 400),
        ("GET", request(b"{}").replace(b"POST", b"GET"), 405),
        ("a query string", request(b"{}", path=VERIFY + "?x=1"), 400),
    ],
)
async def test_requests_the_fast_path_hands_over_get_aiohttp_s_answer(
    client: TestClient[Any, Any],
    caplog: pytest.LogCaptureFixture,
    name: str,
    data: bytes,
    status: int,
) -> None:
    # given a fresh connection
    connection = await Connection.open(client)
    answered = fast(client).answered
    # when it sends a request that is not the plain case
    await connection.send(data)
    reply = await connection.reply()
    # then aiohttp answered it as it always does, and the fast path did not
    assert reply.status == status, (name, reply.body)
    if status == 405:
        assert reply.headers["content-type"].startswith("application/problem+json")
    assert fast(client).answered == answered
    # and nothing failed on the way (aiohttp logs the malformed ones it refuses; nothing
    # crashed while answering them)
    assert "Unhandled exception" not in [r.getMessage() for r in caplog.records]
    await connection.close()


async def test_a_cors_request_gets_aiohttp_s_cors_headers(
    client: TestClient[Any, Any],
) -> None:
    # given a request from a browser page (an Origin header)
    connection = await Connection.open(client)
    answered = fast(client).answered
    # when it verifies a key
    reply = await connection.ask(
        request(verify_body(unknown_token()), extra="Origin: https://evil.example.net\r\n")
    )
    # then aiohttp's route answered, with its CORS decision (no allowed origin is configured)
    assert reply.json() == {"valid": False, "code": "NOT_FOUND"}
    assert "access-control-allow-origin" not in reply.headers
    assert fast(client).answered == answered


async def test_pipelined_requests_are_answered_in_order(api: Api) -> None:
    # given a key nobody has verified yet (its lookup waits for the database) and an unknown one
    account = await api.sign_up()
    _, token = await api.create_key(account)
    connection = await Connection.open(api.client)
    # when three verifications and a GraphQL request arrive in one write
    await connection.send(
        request(verify_body(token))
        + request(verify_body(unknown_token()))
        + request(verify_body(token))
        + request(b'{"query": "{ __typename }"}', path="/graphql")
    )
    # then the answers come back in the order asked
    codes = [(await connection.reply()).json().get("code") for _ in range(3)]
    last = await connection.reply()
    assert codes == ["VALID", "NOT_FOUND", "VALID"]
    assert json.loads(last.body) == {"data": {"__typename": "Query"}}
    await connection.close()


async def test_a_closing_server_answers_the_request_in_hand_and_no_more(api: Api) -> None:
    """As aiohttp does on shutdown: the request being answered is finished, the ones pipelined
    behind it are not started, and the connection is closed."""
    # given two verifications in one write, the first waiting for the database
    account = await api.sign_up()
    _, token = await api.create_key(account)
    connection = await Connection.open(api.client)
    await connection.send(request(verify_body(token)) + request(verify_body(token)))
    server = fast(api.client)
    for _ in range(1000):
        busy = [protocol for protocol in server.protocols if protocol.busy]
        if busy:
            break
        await asyncio.sleep(0)
    assert len(busy) == 1, "the first verification waits for the database"
    # when the server begins to shut down (it closes each connection once idle)
    busy[0].close_when_idle()
    # then the first is answered, and then the connection closes
    assert (await connection.reply()).json()["code"] == "VALID"
    assert await connection.closed()


async def test_a_request_arriving_a_byte_at_a_time(api: Api) -> None:
    # given
    account = await api.sign_up()
    connection = await Connection.open(api.client)
    answered = fast(api.client).answered
    # when a verification arrives one byte per write
    for byte in request(verify_body(account.default_key["token"])):
        await connection.send(bytes([byte]))
    # then it is answered once, by the fast path
    assert (await connection.reply()).json()["code"] == "VALID"
    assert fast(api.client).answered == answered + 1
    await connection.close()


async def test_a_deleted_key_fails_on_the_next_request_of_an_open_connection(api: Api) -> None:
    # given a key verified (and so cached) over a keep-alive connection
    account = await api.sign_up()
    key, token = await api.create_key(account)
    connection = await Connection.open(api.client)
    for _ in range(2):
        assert (await connection.ask(request(verify_body(token)))).json()["code"] == "VALID"
    # when it is deleted
    await delete(api, account.session, key["id"])
    # then the very next verification on that connection refuses it
    assert (await connection.ask(request(verify_body(token)))).json() == {
        "valid": False,
        "code": "NOT_FOUND",
    }
    await connection.close()


async def test_connection_close_is_honoured(api: Api) -> None:
    # given
    account = await api.sign_up()
    connection = await Connection.open(api.client)
    # when a verification asks to close the connection
    reply = await connection.ask(
        request(verify_body(account.default_key["token"]), extra="Connection: close\r\n")
    )
    # then it is answered, and the connection closed
    assert reply.json()["code"] == "VALID"
    assert await connection.closed()


async def test_the_request_id_is_echoed_and_logged(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    # given
    account = await api.sign_up()
    connection = await Connection.open(api.client)
    answered = fast(api.client).answered
    # when a verification carries its own request id, and another a malformed one
    with caplog.at_level(logging.INFO, logger="aiohttp.access"):
        mine = await connection.ask(
            request(verify_body(account.default_key["token"]), extra="X-Request-Id: req-7\r\n")
        )
        bad = await connection.ask(request(b"{}", extra="X-Request-Id: sk_not an id\r\n"))
    # then the first is echoed, the second replaced by a new one, both answered here
    assert mine.headers["x-request-id"] == "req-7"
    assert bad.status == 400 and len(bad.headers["x-request-id"]) == 32
    assert fast(api.client).answered == answered + 2
    # and each has its access-log line, with its id, route and status
    lines = {
        getattr(r, "request_id", None): r.getMessage()
        for r in caplog.records
        if r.name == "aiohttp.access"
    }
    assert "route=/v1/keys/verify path=/v1/keys/verify status=200" in lines["req-7"]
    assert "status=400" in lines[bad.headers["x-request-id"]]
    await connection.close()
