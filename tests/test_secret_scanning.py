"""POST /v1/secret-scanning/github, as GitHub calls it: a key pair made in the test signs the raw
body, its public half is the GITHUB_SECRET_SCANNING_KEYS_FILE. A signed report of a secret key
revokes it at once (a tombstone remains, the audit log says GitHub did it and where the key was
found); anything unsigned, tampered with or signed by another key does nothing."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from models import tokens
from models.audit_entities import AuditEvent, KeyLeak, KeyTombstone
from settings import Settings
from tests.harness import FAST_PASSWORDS, Account, Api
from tests.leak_support import (
    GITHUB_PATH,
    KEY_LEAKS,
    LEAK_URL,
    SET_LEAK_POLICY,
    GitHubSigner,
    matches,
    post_github,
)
from tests.support import unknown_token


@pytest.fixture
def signer() -> GitHubSigner:
    return GitHubSigner.new()


@pytest.fixture
def settings(database_url: str, signer: GitHubSigner, tmp_path: Path) -> Iterator[Settings]:
    keys = signer.write_keys(tmp_path / "github-keys.json", GitHubSigner.new("other-key"))
    yield Settings(
        database_url=database_url,
        github_secret_scanning_keys_file=str(keys),
        **FAST_PASSWORDS,  # type: ignore[arg-type]
    )


async def _leaked_events(account: Account) -> list[AuditEvent]:
    return await AuditEvent.filter(
        organization_id=uuid.UUID(account.organization_id), action="api_key.leaked"
    )


async def test_a_signed_report_revokes_the_secret_key_and_answers_true_positive(
    api: Api, client: TestClient[Any, Any], signer: GitHubSigner, db: None
) -> None:
    # given an owner with a secret key that works
    owner = await api.sign_up()
    key, secret = await api.create_key(owner)
    assert (await api.verify(secret))["valid"] is True
    # when GitHub reports it
    status, feedback = await post_github(client, signer, matches(secret))
    # then the feedback says it is ours, and the key no longer works
    assert status == 200
    assert feedback == [
        {
            "token_hash": hashlib.sha256(secret.encode()).hexdigest(),
            "token_type": "keyward_secret_key",
            "label": "true_positive",
        }
    ]
    assert await api.verify(secret) == {"valid": False, "code": "NOT_FOUND"}
    # and a tombstone remembers it, the leak is recorded, the audit log names GitHub and the URL
    assert await KeyTombstone.exists(key_id=key["id"])
    [leak] = await KeyLeak.filter(key_id=key["id"])
    assert (leak.url, leak.source, leak.revoked, leak.reporter) == (
        LEAK_URL,
        "content",
        True,
        "GITHUB",
    )
    [event] = await _leaked_events(owner)
    assert event.actor_type == "GITHUB"
    assert event.target_id == key["id"]
    assert event.details["url"] == LEAK_URL and event.details["revoked"] is True
    assert secret not in json.dumps(event.details)


async def test_a_revoked_key_reported_again_is_still_ours(
    api: Api, client: TestClient[Any, Any], signer: GitHubSigner, db: None
) -> None:
    # given a secret key GitHub already reported (so it is deleted)
    owner = await api.sign_up()
    key, secret = await api.create_key(owner)
    await post_github(client, signer, matches(secret))
    # when it is found again, in another commit
    status, feedback = await post_github(client, signer, matches(secret, url=LEAK_URL + "#L2"))
    # then it is still a true positive (its tombstone knows it), recorded twice
    assert status == 200 and feedback[0]["label"] == "true_positive"
    assert await KeyLeak.filter(key_id=key["id"]).count() == 2


async def test_unknown_and_foreign_tokens_are_false_positives(
    client: TestClient[Any, Any], signer: GitHubSigner
) -> None:
    # given tokens keyward never issued: well-formed, mistyped, and not ours at all
    never_issued = unknown_token()
    garbage = "ghp_" + "a" * 36
    # when GitHub reports them
    status, feedback = await post_github(client, signer, matches(never_issued, garbage))
    # then each is a false positive, named by its SHA-256
    assert status == 200
    assert [(item["token_hash"], item["label"]) for item in feedback] == [
        (tokens.digest(never_issued), "false_positive"),
        (hashlib.sha256(garbage.encode()).hexdigest(), "false_positive"),
    ]


async def test_a_public_key_is_recorded_but_never_revoked(
    api: Api, client: TestClient[Any, Any], signer: GitHubSigner
) -> None:
    # given an owner's public key (published by design)
    owner = await api.sign_up()
    key, public = await api.create_key(owner, "web", "PUBLIC")
    # when GitHub finds it in a page
    status, feedback = await post_github(client, signer, matches(public))
    # then it is ours, it still works, and its page shows where it was found
    assert status == 200 and feedback[0]["label"] == "true_positive"
    assert (await api.verify(public))["valid"] is True
    data = await api.query(KEY_LEAKS, {"id": key["id"]}, token=owner.session)
    [leak] = data["apiKey"]["leaks"]
    assert leak["url"] == LEAK_URL and leak["revoked"] is False and leak["reporter"] == "GITHUB"


async def test_under_notify_a_secret_key_keeps_working_and_the_leak_is_recorded(
    api: Api, client: TestClient[Any, Any], signer: GitHubSigner, db: None
) -> None:
    # given an owner who chose NOTIFY
    owner = await api.sign_up()
    key, secret = await api.create_key(owner)
    data = await api.query(
        SET_LEAK_POLICY,
        {"input": {"organizationId": owner.organization_id, "leakPolicy": "NOTIFY"}},
        token=owner.session,
    )
    assert data["updateLeakPolicy"]["organization"]["leakPolicy"] == "NOTIFY"
    # when GitHub reports the secret key
    status, feedback = await post_github(client, signer, matches(secret))
    # then it is ours but still works; the leak and its event say it was not revoked
    assert status == 200 and feedback[0]["label"] == "true_positive"
    assert (await api.verify(secret))["valid"] is True
    data = await api.query(KEY_LEAKS, {"id": key["id"]}, token=owner.session)
    assert [leak["revoked"] for leak in data["apiKey"]["leaks"]] == [False]
    [event] = await _leaked_events(owner)
    assert event.details["revoked"] is False


@pytest.mark.parametrize(
    "tamper",
    ["body", "identifier", "base64", "missing", "other-key"],
)
async def test_an_unsigned_or_tampered_report_is_refused_and_does_nothing(
    api: Api, client: TestClient[Any, Any], signer: GitHubSigner, tamper: str
) -> None:
    # given a secret key and a report of it signed by GitHub
    owner = await api.sign_up()
    _, secret = await api.create_key(owner)
    raw = matches(secret)
    headers = signer.headers(raw)
    # when the request is not exactly what GitHub signed
    if tamper == "body":
        raw = raw.replace(b"content", b"commit!")
    elif tamper == "identifier":
        headers["Github-Public-Key-Identifier"] = "no-such-key"
    elif tamper == "base64":
        headers["Github-Public-Key-Signature"] = "not base64 at all!"
    elif tamper == "missing":
        del headers["Github-Public-Key-Signature"]
    else:  # signed by another key GitHub has, but named as this one
        headers["Github-Public-Key-Signature"] = GitHubSigner.new().sign(raw)
    response = await client.post(GITHUB_PATH, data=raw, headers=headers)
    # then it is a 401 problem document, and the key still works
    assert response.status == 401
    assert response.content_type == "application/problem+json"
    assert (await response.json())["status"] == 401
    assert (await api.verify(secret))["valid"] is True


async def test_a_signed_body_that_is_not_matches_is_a_400(
    client: TestClient[Any, Any], signer: GitHubSigner
) -> None:
    # given a signed body that is an object, not an array of matches
    raw = json.dumps({"token": "x"}).encode()
    # when GitHub's key signed it
    status, body = await post_github(client, signer, raw)
    # then
    assert status == 400 and "array" in body["detail"]


async def test_a_thousand_tokens_in_one_request(
    api: Api, client: TestClient[Any, Any], signer: GitHubSigner
) -> None:
    # given three secret keys hidden among a thousand well-formed tokens
    owner = await api.sign_up()
    secrets = [(await api.create_key(owner, f"k{n}"))[1] for n in range(3)]
    reported = [unknown_token() for _ in range(997)]
    for at, secret in zip((10, 500, 990), secrets, strict=True):
        reported.insert(at, secret)
    raw = matches(*reported)
    # when GitHub sends them in one request
    started = time.perf_counter()
    status, feedback = await post_github(client, signer, raw)
    elapsed = time.perf_counter() - started
    print(f"1,000 tokens ({len(raw):,} bytes): {elapsed:.3f} s")
    # then each gets its own feedback, in order, and exactly the three keys are revoked
    assert status == 200 and len(feedback) == 1_000
    assert [at for at, item in enumerate(feedback) if item["label"] == "true_positive"] == [
        10,
        500,
        990,
    ]
    assert [item["token_hash"] for item in feedback] == [tokens.digest(t) for t in reported]
    for secret in secrets:
        assert (await api.verify(secret))["valid"] is False
