"""A token never reaches a log, however it is written: percent-encoded once or repeatedly, glued
to other text, cut loose from its `sk_`; nor do values a database error copies (an email in a
unique violation). Checked on `redact` and on a real server's logs for a URL longer than
aiohttp's 8,190-byte line limit and a double-encoded path."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp import web

from models import tokens
from server import create_app
from settings import Settings
from tests.harness import Api, Clock, KeywardTestServer
from web.access_log import AccessLogger
from web.redaction import REDACTED, install_log_redaction, redact


def _encodings(token: str) -> list[str]:
    once = quote(token, safe="")
    underscore = token.replace("_", "%5F")
    return [
        token,
        once,
        quote(once, safe=""),
        quote(quote(once, safe=""), safe=""),
        underscore,
        underscore.replace("%", "%25"),
        f"/v1/keys/{underscore}?x=1",
        "glued" + token + "glued",
        f"Bearer%20{once}",
    ]


def _bare(token: str) -> list[str]:
    """The body and checksum without `kind_`: recognisable by the checksum when no deployment
    prefix is part of it."""
    body = token.split("_")[-1]
    return [body, "XYZ" + body + "123", quote("sk%5F" + body)]


@pytest.mark.parametrize("prefix", ["", "acme"])
@pytest.mark.parametrize("kind", list(tokens.TokenKind))
def test_every_written_form_of_a_token_is_redacted(prefix: str, kind: tokens.TokenKind) -> None:
    token = tokens.generate(kind, prefix)
    body = token.split("_")[-1]
    for text in _encodings(token) + ([] if prefix else _bare(token)):
        # when
        line = redact(f"GET {text} HTTP/1.1")
        # then no part of the token's body is left
        assert body[:12] not in line and REDACTED in line, (text, line)


def test_ordinary_text_is_left_alone() -> None:
    digest = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    for text in [
        '127.0.0.1 "POST /graphql" 200 512 0.004',
        f"digest={digest}",
        "a" * 200,
        "/static/app.js?v=3%20beta",
    ]:
        assert redact(text) == text


def test_values_in_database_errors_are_redacted() -> None:
    errors = {
        'duplicate key value violates unique constraint "user_email_key_key"\n'
        "DETAIL:  Key (email_key)=(victim@example.com) already exists.": "victim@example.com",
        'null value in column "name" violates not-null constraint\n'
        "DETAIL:  Failing row contains (42, secret@example.com, null).": "secret@example.com",
        'invalid input syntax for type uuid: "bob@example.com"': "bob@example.com",
    }
    for text, value in errors.items():
        assert value not in redact(text)
        assert REDACTED in redact(text)


@pytest.fixture
def redacted_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    factory = logging.getLogRecordFactory()
    install_log_redaction()
    caplog.set_level(logging.DEBUG)
    try:
        yield caplog
    finally:
        logging.setLogRecordFactory(factory)


async def test_a_server_logs_no_token_from_long_or_encoded_urls(
    settings: Settings, clock: Clock, aiohttp_client: Any, redacted_logs: pytest.LogCaptureFixture
) -> None:
    # given a server with keyward's access log, and a secret key
    app: web.Application = create_app(settings, clock=clock)
    server = KeywardTestServer(app)
    await server.start_server(access_log_class=AccessLogger)
    client = await aiohttp_client(server)
    api = Api(client)
    account = await api.sign_up()
    _, secret = await api.create_key(account)
    encoded = secret.replace("_", "%5F")
    # when the token is sent in a URL past the line limit, and double-encoded in a path
    long = await client.get(f"/graphql?pad={'a' * 9_000}&t={encoded}")
    double = await client.get("/v1/" + encoded.replace("%", "%25"))
    # then the requests are refused and no log line holds the token
    assert long.status >= 400 and double.status >= 400
    lines = [logging.Formatter("%(message)s").format(r) for r in redacted_logs.records]
    text = "\n".join(lines)
    assert "/v1/" in text  # the access log saw the request
    assert secret.split("_")[-1][:12] not in text
