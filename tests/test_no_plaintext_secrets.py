"""A secret token exists in exactly one response: never in the database, never in a log.

After secret keys are created and rolled and sessions started, the raw bytes of the SQLite
database (main file and write-ahead log) and every row of every table hold no secret or session
token, only their digests; public tokens, which are not secrets, may and do appear.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from tortoise import connections

from models import tokens
from settings import Settings
from tests.harness import ON_POSTGRES, Api
from tests.support import ROLL_API_KEY, VERIFY_API_KEY, roll

TABLES = ["organization", '"user"', "membership", "session", "api_key"]


async def exercise(api: Api) -> tuple[list[str], list[str]]:
    """Sign up, sign in, create and roll secret keys, use them. Returns (secrets, public)."""
    account = await api.sign_up()
    session = await api.sign_in(account.email)
    secret, secret_token = await api.create_key(account, name="server")
    _, kept_token = await api.create_key(account, name="kept")
    rolled = await roll(api, account.session, secret["id"])
    public, public_token = await api.create_key(account, name="web", type="PUBLIC")
    for token in (secret_token, kept_token, rolled["token"]):
        assert (await api.verify(token))["valid"] is True
        await api.query(VERIFY_API_KEY, {"token": token}, token=kept_token)
    secrets = [account.session, session, secret_token, kept_token, rolled["token"]]
    return secrets, [account.default_key["token"], public_token]


def body(token: str) -> str:
    """The random part alone: a secret must not appear even re-prefixed or truncated."""
    return token[token.rindex("_") + 1 :][:40]


@pytest.mark.skipif(ON_POSTGRES, reason="scans SQLite's files")
async def test_the_sqlite_files_hold_no_secret_token(api: Api, settings: Settings) -> None:
    # given secret keys created, rolled and used, and sessions started
    secrets, public = await exercise(api)
    # when the database's files are read as raw bytes
    path = Path(settings.database_url.removeprefix("sqlite://"))
    files = [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()]
    raw = b"".join(p.read_bytes() for p in files)
    # then no secret token, nor its random body, is in them
    assert len(raw) > 0 and Path(f"{path}-wal").exists()
    for secret in secrets:
        assert secret.encode() not in raw
        assert body(secret).encode() not in raw
        # only its digest is (which proves the scan reads where the rows live)
        assert tokens.digest(secret).encode() in raw
    # and public tokens may appear
    for token in public:
        assert token.encode() in raw


async def test_no_table_holds_a_secret_token(api: Api, db: None) -> None:
    # given
    secrets, public = await exercise(api)
    # when every row of every table is read as text
    connection = connections.get("default")
    dump = ""
    for table in TABLES:
        _, rows = await connection.execute_query(f"SELECT * FROM {table}")
        dump += "\n".join(repr(dict(row)) for row in rows)
    # then
    for secret in secrets:
        assert body(secret) not in dump
        assert tokens.digest(secret) in dump
    assert all(token in dump for token in public)


async def test_logs_hold_no_secret_token(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    # given every logger at its most talkative (SQL statements and their values included)
    caplog.set_level(logging.DEBUG)
    # when
    secrets, _ = await exercise(api)
    for secret in secrets:
        # a bad bearer token, and a secret pasted where it fails the variable's type
        await api.raw(VERIFY_API_KEY, {"token": secret}, token=secret[:-1] + "0")
        status, refused = await api.raw(
            ROLL_API_KEY, {"input": {"id": "x", "gracePeriodSeconds": secret}}, token=secrets[0]
        )
        assert refused["errors"], refused
    # then the logs saw the work (down to the digests bound into SQL) but no secret
    assert any(tokens.digest(secret) in caplog.text for secret in secrets)
    text = caplog.text + "".join(str(record.args) for record in caplog.records)
    for secret in secrets:
        assert body(secret) not in text
