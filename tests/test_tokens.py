"""The token format: `[prefix_]pk_|sk_` + a base62 body + a 6-character base62 CRC32 checksum,
so that a mistyped token is refused without a database lookup."""

from __future__ import annotations

import re
import zlib
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import web

from models import tokens
from models.key_verification import VerificationCode, api_key_verify
from models.passwords import Passwords
from server import create_app
from settings import Settings
from tests.harness import ON_POSTGRES, Api, Clock, postgres_empty
from tests.support import keys_of, mistyped

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
SHAPE = re.compile(r"(?:([a-z0-9]+)_)?(pk|sk)_([0-9A-Za-z]{32,})([0-9A-Za-z]{6})")


def base62_crc32(text: str) -> str:
    number, chars = zlib.crc32(text.encode()), []
    for _ in range(6):
        number, digit = divmod(number, 62)
        chars.append(BASE62[digit])
    return "".join(reversed(chars))


def assert_well_formed(token: str, prefix: str | None, kind: str) -> None:
    match = SHAPE.fullmatch(token)
    assert match is not None, token
    assert match.group(1) == prefix
    assert match.group(2) == kind
    assert len(match.group(3)) >= 43  # 32 random bytes need 43 base62 characters
    assert match.group(4) == base62_crc32(token[:-6])


async def test_keys_are_pk_and_sk_with_a_crc32_checksum(api: Api) -> None:
    # given / when an account with its default public key and a secret key
    account = await api.sign_up()
    secret, secret_token = await api.create_key(account)
    public_token = account.default_key["token"]
    # then
    assert_well_formed(public_token, None, "pk")
    assert_well_formed(secret_token, None, "sk")
    assert account.default_key["start"] == public_token[:7]
    assert secret["start"] == secret_token[:7]
    assert re.fullmatch(r"sk_[0-9A-Za-z]{4}", secret["start"])


async def test_every_token_is_new(api: Api) -> None:
    # given / when
    account = await api.sign_up()
    bodies = {(await api.create_key(account, name=f"k{i}"))[1] for i in range(5)}
    # then
    assert len(bodies) == 5


@pytest.fixture
def prefixed_app(settings: Settings, clock: Clock, passwords: Passwords) -> web.Application:
    return create_app(
        Settings(
            database_url=settings.database_url,
            token_prefix="acme",
            password_time_cost=1,
            password_memory_kib=1024,
        ),
        clock=clock,
        passwords=passwords,
    )


async def test_token_prefix_comes_first(prefixed_app: web.Application, aiohttp_client: Any) -> None:
    # given a deployment with TOKEN_PREFIX=acme
    api = Api(await aiohttp_client(prefixed_app))
    if ON_POSTGRES:
        await postgres_empty(prefixed_app)
    # when
    account = await api.sign_up()
    secret, secret_token = await api.create_key(account)
    # then keys and sessions carry the prefix, and still verify
    assert_well_formed(secret_token, "acme", "sk")
    assert_well_formed(account.default_key["token"], "acme", "pk")
    assert secret["start"] == secret_token[:12]
    assert secret["start"].startswith("acme_sk_")
    assert account.session.startswith("acme_ses_")
    assert (await api.verify(secret_token))["valid"] is True
    assert len(await keys_of(api, account.session, account.organization_id)) == 2


async def test_a_one_character_change_is_malformed(api: Api) -> None:
    # given a real secret key
    account = await api.sign_up()
    _, token = await api.create_key(account)
    changes = [
        mistyped(token),
        token[:-1] + ("0" if token[-1] != "0" else "1"),  # the checksum itself
        "p" + token[1:],  # sk_ → pk_
        token[:-7] + token[-6:],  # one character fewer
        token + "0",
    ]
    for changed in changes:
        # when / then
        assert await api.verify(changed) == {"valid": False, "code": "MALFORMED"}, changed
    assert (await api.verify(token))["valid"] is True


async def test_a_malformed_token_is_refused_without_the_database() -> None:
    # given a token with one character changed, and no database at all
    token = tokens.generate(tokens.TokenKind.SECRET_KEY)
    now = datetime(2030, 1, 1, tzinfo=UTC)
    # when it is verified (a database query would fail: no tortoise context is active)
    result = await api_key_verify(token=mistyped(token), now=now)
    # then
    assert result.code is VerificationCode.MALFORMED
    with pytest.raises(Exception):  # noqa: B017 - proves the call above would have needed one
        await api_key_verify(token=token, now=now)


@pytest.mark.parametrize(
    "text", ["", "sk_", "sk_short", "bearer", "ses_x", "SK_" + "A" * 49, "x" * 512]
)
async def test_not_a_token_is_malformed(api: Api, text: str) -> None:
    # given / when / then
    assert await api.verify(text) == {"valid": False, "code": "MALFORMED"}


def test_start_is_the_prefixes_and_four_body_characters() -> None:
    # given
    plain = tokens.generate(tokens.TokenKind.PUBLIC_KEY)
    prefixed = tokens.generate(tokens.TokenKind.SECRET_KEY, "acme")
    # when / then
    assert tokens.start(plain) == plain[:7]
    assert tokens.start(prefixed) == prefixed[:12]
    assert tokens.parse(plain) is tokens.TokenKind.PUBLIC_KEY
    assert tokens.parse(prefixed) is tokens.TokenKind.SECRET_KEY
