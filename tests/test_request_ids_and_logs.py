"""Request ids (taken from the client when safe, else generated; echoed; on every log line of the
request) and the JSON log format, whose every line is redacted like the text one."""

from __future__ import annotations

import io
import json
import logging
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp.test_utils import unused_port

from models import tokens
from server import create_app
from settings import Settings
from telemetry.logs import log_handler
from telemetry.requests import request_scope
from tests.harness import Api, Clock, KeywardTestServer
from tests.jobs_support import ROOT, server_env
from web.access_log import AccessLogger
from web.redaction import REDACTED, install_log_redaction, redact


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """Every log line of the test in the JSON format, through the redacting record factory."""
    factory = logging.getLogRecordFactory()
    install_log_redaction()
    stream = io.StringIO()
    handler = log_handler("json", scrub=redact, stream=stream)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        logging.setLogRecordFactory(factory)


def entries(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.mark.parametrize(
    ("offered", "kept"),
    [
        ("abc-123", True),
        ("7f1c2d9e-0b4a-4b8e-9c1d-2e3f4a5b6c7d", True),
        ("x" * 128, True),
        ("x" * 129, False),
        ("", False),
        ("has space", False),
        ("sk_" + "A" * 40, False),
        ("<script>", False),
    ],
)
async def test_the_request_id_is_the_clients_when_safe(api: Api, offered: str, kept: bool) -> None:
    # when
    response = await api.client.get("/healthz", headers={"X-Request-Id": offered})
    # then
    echoed = response.headers["X-Request-Id"]
    if kept:
        assert echoed == offered
    else:
        assert echoed != offered and len(echoed) == 32
        assert int(echoed, 16) >= 0


async def test_every_answer_carries_a_request_id(api: Api) -> None:
    # when: a handler's answer, aiohttp's own 404 and 405, and a refusal by a middleware
    answers = [
        await api.client.get("/healthz"),
        await api.client.get("/nowhere"),
        await api.client.get("/v1/keys/verify"),
        await api.client.get("/graphql", params={"t": "sk_" + "A" * 40}),
    ]
    # then each has its own id
    ids = [response.headers.get("X-Request-Id") for response in answers]
    assert [response.status for response in answers] == [200, 404, 405, 400]
    assert None not in ids and len(set(ids)) == len(ids)


async def test_every_log_line_of_a_request_carries_its_id(
    settings: Settings, clock: Clock, aiohttp_client: Any, json_lines: io.StringIO
) -> None:
    # given a server with keyward's access log
    server = KeywardTestServer(create_app(settings, clock=clock))
    await server.start_server(access_log_class=AccessLogger)
    client = await aiohttp_client(server)
    json_lines.seek(0)
    json_lines.truncate(0)
    # when a request logs a line of its own (a database failure) and its access line
    logging.getLogger("keyward.test").info("outside any request")
    response = await client.post(
        "/graphql", json={"query": "{ me { id } }"}, headers={"X-Request-Id": "req-42"}
    )
    # then
    assert response.headers["X-Request-Id"] == "req-42"
    lines = entries(json_lines)
    outside = [line for line in lines if line["msg"] == "outside any request"]
    assert outside[0]["request_id"] is None
    access = [line for line in lines if line["logger"] == "aiohttp.access"]
    assert len(access) == 1
    assert access[0]["request_id"] == "req-42"
    assert access[0]["method"] == "POST"
    assert access[0]["route"] == "/graphql"
    assert access[0]["status"] == 200
    assert isinstance(access[0]["duration_ms"], float)
    assert set(access[0]) >= {"ts", "level", "logger", "msg", "request_id"}


async def test_log_lines_inside_a_request_carry_its_id(
    api: Api, json_lines: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a resolver that logs (an unexpected error is logged by the GraphQL layer)
    import schema.query as query_module

    account = await api.sign_up()

    async def crash(**_: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(query_module, "user_get", crash)
    # when
    response = await api.client.post(
        "/graphql",
        json={"query": "{ me { id } }"},
        headers={"Authorization": f"Bearer {account.session}", "X-Request-Id": "req-crash"},
    )
    # then
    assert response.status == 200
    errors = [line for line in entries(json_lines) if line["logger"] == "keyward.graphql"]
    assert errors and all(line["request_id"] == "req-crash" for line in errors)
    assert "boom" in errors[0]["exc"]


def all_token_kinds() -> list[str]:
    made: list[str] = []
    for kind in tokens.TokenKind:
        made.append(tokens.generate(kind))
        made.append(tokens.generate(kind, prefix="acme"))
    return made


def test_json_lines_never_hold_a_token_of_any_kind(json_lines: io.StringIO) -> None:
    # given every kind of token, with and without a deployment prefix
    secrets = all_token_kinds()
    assert {secret.split("_")[-2] for secret in secrets} == {k.value for k in tokens.TokenKind}
    assert any(secret.startswith("acme_") for secret in secrets)
    log = logging.getLogger("keyward.test")
    # when they reach the log in a message, its arguments, an extra field and a traceback
    for secret in secrets:
        log.info("job=check token=%s", secret)
        log.info(f"verifying {secret} now")
        log.info("header Authorization: Bearer %s", secret, extra={"detail": f"got {secret}"})
        try:
            raise ValueError(f"bad key {secret}")
        except ValueError:
            log.exception("failed")
    # then no line holds any of them, and the fields are still there
    text = json_lines.getvalue()
    for secret in secrets:
        assert secret not in text
    lines = entries(json_lines)
    assert len(lines) == 4 * len(secrets)
    assert lines[0]["job"] == "check" and lines[0]["token"] == REDACTED
    assert lines[2]["detail"] == f"got {REDACTED}"
    assert REDACTED in lines[3]["exc"] and "ValueError" in lines[3]["exc"]


def test_logfmt_fields_become_json_fields(json_lines: io.StringIO) -> None:
    # when a job's line is logged
    logging.getLogger("keyward.jobs").info(
        'job=purge-expired api_keys=12 sessions=3 duration_ms=4.1 note="two words" holder=h:1'
    )
    # then
    (line,) = entries(json_lines)
    assert line["job"] == "purge-expired"
    assert line["api_keys"] == 12 and line["sessions"] == 3 and line["duration_ms"] == 4.1
    assert line["note"] == "two words" and line["holder"] == "h:1"
    assert line["level"] == "INFO" and line["logger"] == "keyward.jobs"
    assert line["request_id"] is None


def test_the_text_format_ends_a_request_line_with_its_id() -> None:
    # given
    stream = io.StringIO()
    handler = log_handler("text", scrub=redact, stream=stream)
    log = logging.getLogger("keyward.text-test")
    log.addHandler(handler)
    log.propagate = False
    try:
        # when
        with request_scope("req-7"):
            log.warning("job=x rows=1")
        log.warning("outside")
    finally:
        log.removeHandler(handler)
        log.propagate = True
    # then
    inside, outside = stream.getvalue().splitlines()
    assert inside.endswith("WARNING keyward.text-test job=x rows=1 request_id=req-7")
    assert outside.endswith("WARNING keyward.text-test outside")


def test_a_served_process_writes_json_lines(database_url: str) -> None:
    # given `server.py serve` with LOG_FORMAT=json
    port = unused_port()
    env = server_env(database_url, LOG_FORMAT="json")
    process = subprocess.Popen(
        [sys.executable, "server.py", "serve", "--port", str(port), "--no-scheduler"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # when it answers one request (bounded wait for it to listen)
        answered = None
        for _ in range(100):
            try:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/healthz", headers={"X-Request-Id": "served-1"}
                )
                with urllib.request.urlopen(request, timeout=2) as response:
                    answered = response.headers["X-Request-Id"]
                break
            except OSError:
                time.sleep(0.1)
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=20)
    # then every line is a JSON object, and the access line carries the id
    assert answered == "served-1"
    lines = [json.loads(line) for line in err.splitlines() if line.strip()]
    always = {"ts", "level", "logger", "msg", "request_id"}
    assert lines and all(always <= set(line) for line in lines)
    access = [line for line in lines if line["logger"] == "aiohttp.access"]
    assert [(line["route"], line["status"], line["request_id"]) for line in access] == [
        ("/healthz", 200, "served-1")
    ]
