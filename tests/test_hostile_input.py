"""Every input that is not as expected gets a clear 4xx or a typed error, never a 5xx nor
"Unexpected error.": bodies that are not JSON objects, invalid UTF-8, huge numbers, deep nesting,
two Authorization headers, control characters, lone surrogates and bidi overrides in names and
emails, invalid DateTime literals. Then the same classes fuzzed as raw bytes and as random text,
on whichever database the run uses."""

from __future__ import annotations

import json
import logging
import random
from typing import Any

import pytest

from tests.harness import CREATE_API_KEY, PASSWORD, SIGN_IN, SIGN_UP, Api
from tests.support import CREATE_ORGANIZATION

BODIES: list[bytes] = [
    b"null",
    b"[]",
    b"1",
    b'"a string"',
    b"true",
    b"\xff\xfe{}",
    b'{"query": "{ me { id } }", "variables": {"n": 1' + b"0" * 5_000 + b"}}",
    b'{"key": 1' + b"0" * 5_000 + b"}",
    b'{"query": "{ me { id } }", "x": 1.' + b"5" * 5_000 + b"}",
    b'{"query": NaN}',
    b'{"key": Infinity}',
    b"[" * 5_000 + b"]" * 5_000,
    b'{"a":' * 5_000 + b"1" + b"}" * 5_000,
    b'{"query": "{ me { id } }", "variables": ' + b"[" * 100 + b"]" * 100 + b"}",
    b'{"key": "sk_\xed\xa0\x80"}',  # a surrogate encoded in UTF-8: not valid UTF-8
    b"",
    b"{",
]
REFUSED_TEXT = ["a\x00b", "a\ud800b", "evil\u202etxt.exe", "x\u2066y", "line\nbreak", "esc\x1b[31m"]


async def _post(api: Api, path: str, body: bytes, **headers: str) -> tuple[int, str]:
    response = await api.client.post(
        path, data=body, headers={"Content-Type": "application/json", **headers}
    )
    return response.status, await response.text()


@pytest.mark.parametrize("path", ["/graphql", "/v1/keys/verify"])
async def test_bodies_that_are_not_bounded_json_objects_get_400(api: Api, path: str) -> None:
    for body in BODIES:
        # when
        status, text = await _post(api, path, body)
        # then
        assert status == 400, (body[:40], status, text)
        assert "Unexpected error" not in text


async def test_two_authorization_headers_get_400(api: Api) -> None:
    # given a valid session and a bogus second credential
    account = await api.sign_up()
    body = json.dumps({"query": "{ me { id } }"}).encode()
    response = await api.client.post(
        "/graphql",
        data=body,
        headers=[
            ("Content-Type", "application/json"),
            ("Authorization", f"Bearer {account.session}"),
            ("Authorization", "Bearer sk_other"),
        ],
    )
    # then neither wins
    assert response.status == 400
    assert "Authorization header once" in (await response.json())["errors"][0]["message"]


@pytest.mark.parametrize("text", REFUSED_TEXT)
async def test_names_and_emails_refuse_control_surrogate_and_bidi_characters(
    api: Api, text: str
) -> None:
    account = await api.sign_up()
    # when a key, an organization and an account are named with it
    key = await api.query(
        CREATE_API_KEY,
        {"input": {"organizationId": account.organization_id, "name": text}},
        token=account.session,
    )
    organization = await api.query(
        CREATE_ORGANIZATION, {"input": {"name": text}}, token=account.session
    )
    sign_up = await api.query(
        SIGN_UP,
        {"input": {"email": f"{text}@example.com", "password": PASSWORD, "organizationName": text}},
    )
    # then each is InvalidInput on the field, saying why
    for result, field in (
        (key["createApiKey"], "name"),
        (organization["createOrganization"], "name"),
        (sign_up["signUp"], "email"),
    ):
        assert result["__typename"] == "InvalidInput", result
        assert result["field"] == field
        assert "control characters" in result["message"]


async def test_sign_in_and_passwords_with_impossible_text_fail_cleanly(api: Api) -> None:
    account = await api.sign_up()
    # when signing in with a NUL in the email, or a lone surrogate in the password
    for email, password in ((account.email + "\x00", PASSWORD), (account.email, "pass\ud800word")):
        data = await api.query(SIGN_IN, {"input": {"email": email, "password": password}})
        # then the credentials are simply wrong
        assert data["signIn"]["__typename"] == "InvalidCredentials"
    # and a new password with a lone surrogate is InvalidInput
    data = await api.query(
        SIGN_UP, {"input": {"email": "new@example.com", "password": "a long \ud800 password"}}
    )
    assert (data["signUp"]["__typename"], data["signUp"]["field"]) == ("InvalidInput", "password")


@pytest.mark.parametrize("literal", ['"not a date"', '"2030-13-45T99:00:00Z"', "5", "[1]", "true"])
async def test_an_invalid_inline_datetime_is_a_clear_error_and_not_logged(
    api: Api, literal: str, caplog: pytest.LogCaptureFixture
) -> None:
    account = await api.sign_up()
    document = (
        'mutation { createApiKey(input: {name: "x", expiresAt: ' + literal + "}) { __typename } }"
    )
    # when
    with caplog.at_level(logging.ERROR):
        status, body = await api.raw(document, token=account.session)
    # then
    assert status < 500
    messages = [error["message"] for error in body["errors"]]
    assert messages and not any("Unexpected error" in m for m in messages), body
    assert "DateTime" in messages[0]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


# -- fuzzing: raw bytes and random text, bounded --

FUZZ_ROUNDS = 150
_SPECIAL = [b"\x00", b"\xff", b"\xed\xa0\x80", b"\\ud800", b"[", b"{", b"9" * 400, b'"', b"\\"]


def _mutate(rng: random.Random, seed: bytes) -> bytes:
    data = bytearray(seed)
    for _ in range(rng.randint(1, 4)):
        choice = rng.random()
        at = rng.randint(0, len(data))
        if choice < 0.3:
            data[at:at] = rng.choice(_SPECIAL)
        elif choice < 0.5 and data:
            del data[at : at + rng.randint(1, 8)]
        elif choice < 0.7 and data:
            data[min(at, len(data) - 1)] = rng.randint(0, 255)
        elif choice < 0.8:
            data[at:at] = rng.choice(_SPECIAL) * rng.randint(50, 3_000)
        else:
            data = data[: rng.randint(0, len(data))]
    return bytes(data)


def _random_text(rng: random.Random) -> str:
    alphabet = [chr(rng.randint(0, 0x2FFF)) for _ in range(8)] + ["\x00", "\ud800", "\u202e"]
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 120)))


async def test_fuzzed_bytes_never_get_a_5xx(api: Api) -> None:
    # given valid requests to mutate
    account = await api.sign_up()
    _, secret = await api.create_key(account)
    seeds = {
        "/graphql": [
            json.dumps({"query": CREATE_API_KEY, "variables": {"input": {"name": "n"}}}).encode(),
            json.dumps({"query": "query { me { id organizations { name } } }"}).encode(),
            json.dumps({"query": SIGN_IN, "variables": {"input": {"email": "a@b.co"}}}).encode(),
        ],
        "/v1/keys/verify": [json.dumps({"key": secret}).encode()],
    }
    rng = random.Random(20261201)
    seen: list[tuple[str, int, bytes]] = []
    for _ in range(FUZZ_ROUNDS):
        path = rng.choice(list(seeds))
        body = _mutate(rng, rng.choice(seeds[path]))
        token = rng.choice([None, account.session, secret])
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        # when
        status, text = await _post(api, path, body, **headers)
        # then
        if status >= 500 or "Unexpected error" in text:
            seen.append((path, status, body[:200]))
    assert not seen, seen


async def test_fuzzed_text_in_every_string_input_never_gets_a_5xx(api: Api) -> None:
    account = await api.sign_up()
    rng = random.Random(11)
    documents: list[tuple[str, Any]] = [
        (
            CREATE_API_KEY,
            lambda t: {"input": {"organizationId": account.organization_id, "name": t}},
        ),
        (CREATE_ORGANIZATION, lambda t: {"input": {"name": t}}),
        (SIGN_UP, lambda t: {"input": {"email": t, "password": t, "organizationName": t}}),
        (SIGN_IN, lambda t: {"input": {"email": t, "password": t}}),
        ("query Q($t: String!) { verifyApiKey(token: $t) { code } }", lambda t: {"t": t}),
        ("query Q($t: ID!) { apiKey(id: $t) { id } }", lambda t: {"t": t}),
        (
            "query Q($t: String) { organization { apiKeys(after: $t) { totalCount } } }",
            lambda t: {"t": t},
        ),
    ]
    failures: list[tuple[str, int, str]] = []
    for _ in range(FUZZ_ROUNDS):
        document, variables = rng.choice(documents)
        text = _random_text(rng)
        status, body = await api.raw(document, variables(text), token=account.session)
        if status >= 500 or "Unexpected error" in json.dumps(body):
            failures.append((document[:30], status, repr(text)))
    assert not failures, failures
