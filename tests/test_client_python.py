"""keyward-verify (clients/python): the async and the sync client against a real keyward server
on a real port: every verification code, one keep-alive connection, errors that carry the
problem but never the token, and a keyward that is away turned into `KeywardUnavailable`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from keyward_verify import (
    AsyncKeywardClient,
    Code,
    KeyType,
    KeywardClient,
    KeywardProblem,
    KeywardUnavailable,
    Verification,
)

from tests.client_python_support import (
    SHORT_TIMEOUT_SECONDS,
    UNAVAILABLE_PROBLEM,
    assert_no_token,
    base_url,
    closed_port,
    keyward_away,
    keyward_echoing,
    keyward_hanging,
    recording_keyward,
)
from tests.harness import Api, Clock
from tests.support import delete, mistyped, unknown_token
from tests.tcp_proxy import TcpProxy


@pytest.fixture
async def keyward(client: TestClient[Any, Any]) -> AsyncIterator[AsyncKeywardClient]:
    async with AsyncKeywardClient(base_url(client)) as keyward_client:
        yield keyward_client


@pytest.fixture
def keyward_sync(client: TestClient[Any, Any]) -> Iterator[KeywardClient]:
    with KeywardClient(base_url(client)) as keyward_client:
        yield keyward_client


async def test_a_secret_key_is_valid(api: Api, keyward: AsyncKeywardClient) -> None:
    # given
    account = await api.sign_up()
    key, token = await api.create_key(account, name="billing")
    # when
    result = await keyward.verify(token)
    # then
    assert result == Verification(
        valid=True,
        code=Code.VALID,
        key_id=key["id"],
        organization_id=account.organization_id,
        type=KeyType.SECRET,
        name="billing",
        expires_at=None,
    )
    assert result.code == "VALID" and result.type == "SECRET"


async def test_a_public_key_is_valid_with_its_expiry(api: Api, keyward: AsyncKeywardClient) -> None:
    # given
    account = await api.sign_up()
    key, token = await api.create_key(
        account, name="web", type="PUBLIC", expiresAt="2030-06-01T00:00:00Z"
    )
    # when
    result = await keyward.verify(token)
    # then
    assert (result.valid, result.code, result.type) == (True, Code.VALID, KeyType.PUBLIC)
    assert result.key_id == key["id"]
    assert result.expires_at == datetime(2030, 6, 1, tzinfo=UTC)


async def test_invalid_keys_have_their_code(
    api: Api, keyward: AsyncKeywardClient, clock: Clock
) -> None:
    # given a deleted key, a mistyped one, an unknown one and one that just expired
    account = await api.sign_up()
    deleted, deleted_token = await api.create_key(account)
    await delete(api, account.session, deleted["id"])
    _, expiring = await api.create_key(account, expiresAt="2030-01-01T12:00:01Z")
    clock.advance(seconds=1)
    cases = [
        (deleted_token, Code.NOT_FOUND),
        (unknown_token(), Code.NOT_FOUND),
        (mistyped(account.default_key["token"]), Code.MALFORMED),
        ("", Code.MALFORMED),
        (expiring, Code.EXPIRED),
    ]
    for token, code in cases:
        # when / then
        assert await keyward.verify(token) == Verification(valid=False, code=code), code


async def test_the_sync_client_verifies_over_a_real_socket(
    api: Api, keyward_sync: KeywardClient
) -> None:
    # given
    account = await api.sign_up()
    key, token = await api.create_key(account)
    # when (in a thread: the server runs on this thread's loop)
    valid = await asyncio.to_thread(keyward_sync.verify, token)
    await delete(api, account.session, key["id"])
    deleted = await asyncio.to_thread(keyward_sync.verify, token)
    # then
    assert (valid.valid, valid.code, valid.key_id) == (True, Code.VALID, key["id"])
    assert valid.organization_id == account.organization_id
    assert deleted == Verification(valid=False, code=Code.NOT_FOUND)


async def test_each_client_keeps_one_connection_alive(
    api: Api, client: TestClient[Any, Any]
) -> None:
    # given keyward behind a proxy that counts the connections opened to it
    account = await api.sign_up()
    token = account.default_key["token"]
    assert client.server.port is not None
    proxy = TcpProxy(client.server.host, client.server.port)
    await proxy.start()
    through = f"http://127.0.0.1:{proxy.port}"
    try:
        # when each client verifies three times in a row
        async with AsyncKeywardClient(through) as keyward:
            for _ in range(3):
                assert (await keyward.verify(token)).valid
        assert proxy.accepted == 1
        with KeywardClient(through) as keyward_sync:
            for _ in range(3):
                assert (await asyncio.to_thread(keyward_sync.verify, token)).valid
        # then each one used a single connection
        assert proxy.accepted == 2
    finally:
        await proxy.close()


async def test_client_ip_and_origin_are_sent_only_when_given(aiohttp_server: Any) -> None:
    # given a server that records what it is sent
    bodies: list[dict[str, Any]] = []
    server = await aiohttp_server(recording_keyward(bodies))
    url = str(server.make_url("")).rstrip("/")
    token = unknown_token()
    # when
    async with AsyncKeywardClient(url) as keyward:
        await keyward.verify(token)
        await keyward.verify(token, client_ip="203.0.113.7", origin="https://app.example")
    with KeywardClient(url) as keyward_sync:
        await asyncio.to_thread(keyward_sync.verify, token, client_ip="2001:db8::1")
    # then
    assert bodies == [
        {"key": token},
        {"key": token, "clientIp": "203.0.113.7", "origin": "https://app.example"},
        {"key": token, "clientIp": "2001:db8::1"},
    ]


async def test_a_restricted_key_is_judged_by_client_ip_and_origin(
    api: Api, keyward: AsyncKeywardClient
) -> None:
    # given a public key for one web app
    account = await api.sign_up()
    _, token = await api.create_key(
        account, type="PUBLIC", allowedOrigins=["https://app.example"]
    )
    # when it is checked for a caller of that app, and for one of another site
    good = await keyward.verify(token, client_ip="203.0.113.7", origin="https://app.example")
    bad = await keyward.verify(token, client_ip="203.0.113.7", origin="https://evil.example")
    # then the client reads the refusal and its reason
    assert (good.valid, good.code) == (True, Code.VALID)
    assert (bad.valid, bad.code, bad.reason) == (False, "FORBIDDEN", "ORIGIN_NOT_ALLOWED")


@pytest.mark.parametrize(
    ("length", "status", "title"),
    [(513, 400, "Bad Request"), (64 * 1024, 413, "Content Too Large")],
    ids=["too long", "over the body limit"],
)
async def test_a_refused_request_is_a_problem_without_the_token(
    api: Api, client: TestClient[Any, Any], length: int, status: int, title: str
) -> None:
    # given a "token" keyward refuses to look at
    token = "sk_" + "x" * length
    async with AsyncKeywardClient(base_url(client)) as keyward:
        # when
        with pytest.raises(KeywardProblem) as raised:
            await keyward.verify(token)
    with KeywardClient(base_url(client)) as keyward_sync:
        with pytest.raises(KeywardProblem) as raised_sync:
            await asyncio.to_thread(keyward_sync.verify, token)
    # then both carry the problem's fields, and neither the token
    for error in (raised.value, raised_sync.value):
        assert (error.status, error.title, error.type) == (status, title, "about:blank")
        assert error.detail
        assert_no_token(error, token)


async def test_a_problem_echoing_the_token_is_scrubbed(aiohttp_server: Any) -> None:
    # given a server whose problem document repeats the key it was sent
    server = await aiohttp_server(keyward_echoing())
    url = str(server.make_url("")).rstrip("/")
    token = unknown_token()
    # when
    async with AsyncKeywardClient(url) as keyward:
        with pytest.raises(KeywardProblem) as raised:
            await keyward.verify(token)
    with KeywardClient(url) as keyward_sync:
        with pytest.raises(KeywardProblem) as raised_sync:
            await asyncio.to_thread(keyward_sync.verify, token)
    # then the problem's fields are kept, the token is not
    for error in (raised.value, raised_sync.value):
        assert (error.status, error.title) == (400, "Bad Request")
        assert error.detail == "[token] is not a key."
        assert error.extensions == {"key": "[token]", "hint": 3}
        assert token not in repr(error.extensions)
        assert_no_token(error, token)


async def test_a_closed_port_is_unavailable_at_once() -> None:
    # given nothing listening
    url = f"http://127.0.0.1:{closed_port()}"
    token = unknown_token()
    started = time.monotonic()
    # when
    async with AsyncKeywardClient(url, timeout=SHORT_TIMEOUT_SECONDS) as keyward:
        with pytest.raises(KeywardUnavailable) as raised:
            await keyward.verify(token)
    with KeywardClient(url, timeout=SHORT_TIMEOUT_SECONDS) as keyward_sync:
        with pytest.raises(KeywardUnavailable) as raised_sync:
            await asyncio.to_thread(keyward_sync.verify, token)
    # then
    assert time.monotonic() - started < 4 * SHORT_TIMEOUT_SECONDS
    for error in (raised.value, raised_sync.value):
        assert error.status is None and "could not be reached" in str(error)
        assert_no_token(error, token)


async def test_a_server_that_never_answers_is_unavailable_within_the_timeout(
    aiohttp_server: Any,
) -> None:
    # given
    server = await aiohttp_server(keyward_hanging())
    url = str(server.make_url("")).rstrip("/")
    token = unknown_token()
    # when
    async with AsyncKeywardClient(url, timeout=SHORT_TIMEOUT_SECONDS) as keyward:
        started = time.monotonic()
        with pytest.raises(KeywardUnavailable) as raised:
            await keyward.verify(token)
        waited = time.monotonic() - started
    with KeywardClient(url, timeout=SHORT_TIMEOUT_SECONDS) as keyward_sync:
        started = time.monotonic()
        with pytest.raises(KeywardUnavailable) as raised_sync:
            await asyncio.to_thread(keyward_sync.verify, token)
        waited_sync = time.monotonic() - started
    # then each gave up after its timeout, not long after
    for error, seconds in ((raised.value, waited), (raised_sync.value, waited_sync)):
        assert SHORT_TIMEOUT_SECONDS * 0.9 <= seconds < SHORT_TIMEOUT_SECONDS + 1.5, seconds
        assert "did not answer within the timeout" in str(error)
        assert_no_token(error, token)


async def test_a_503_is_unavailable_with_retry_after(aiohttp_server: Any) -> None:
    # given a keyward whose database is away
    server = await aiohttp_server(keyward_away())
    url = str(server.make_url("")).rstrip("/")
    token = unknown_token()
    # when
    async with AsyncKeywardClient(url) as keyward:
        with pytest.raises(KeywardUnavailable) as raised:
            await keyward.verify(token)
    with KeywardClient(url) as keyward_sync:
        with pytest.raises(KeywardUnavailable) as raised_sync:
            await asyncio.to_thread(keyward_sync.verify, token)
    # then
    for error in (raised.value, raised_sync.value):
        assert (error.status, error.retry_after) == (UNAVAILABLE_PROBLEM["status"], 1.0)
        assert_no_token(error, token)


async def test_a_client_reopens_after_close(api: Api, client: TestClient[Any, Any]) -> None:
    # given a client that was closed
    account = await api.sign_up()
    keyward = AsyncKeywardClient(base_url(client))
    await keyward.close()
    # when / then it opens a new pool on the next call
    assert (await keyward.verify(account.default_key["token"])).valid
    await keyward.close()
