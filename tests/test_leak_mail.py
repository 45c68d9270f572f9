"""A leaked key is mailed to the organization's OWNERs and ADMINs (never its MEMBERs) through
the outbox, and reaches a real SMTP server (aiosmtpd) with where the key was found and never the
token."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from models.entities import Role
from settings import Settings
from tests.harness import FAST_PASSWORDS, Api, Clock
from tests.leak_support import LEAK_URL, GitHubSigner, matches, post_github
from tests.support import add_member
from tests.team_support import SmtpServer, body_of, free_port
from tests.test_mail_outbox import deliver


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer(free_port())
    yield server
    server.stop()


@pytest.fixture
def signer() -> GitHubSigner:
    return GitHubSigner.new()


@pytest.fixture
def settings(database_url: str, smtp: SmtpServer, signer: GitHubSigner, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        smtp_url=smtp.url,
        mail_from="keyward <keys@example.org>",
        public_url="https://keys.example.org",
        github_secret_scanning_keys_file=str(signer.write_keys(tmp_path / "keys.json")),
        **FAST_PASSWORDS,  # type: ignore[arg-type]
    )


async def test_owners_and_admins_are_mailed_where_the_key_was_found(
    api: Api,
    app: web.Application,
    client: TestClient[Any, Any],
    settings: Settings,
    clock: Clock,
    smtp: SmtpServer,
    signer: GitHubSigner,
    db: None,
) -> None:
    # given an organization with an owner, an admin and a member, and a secret key
    smtp.start()
    owner = await api.sign_up()
    admin, member = await api.sign_up(), await api.sign_up()
    await add_member(admin, owner.organization_id, Role.ADMIN)
    await add_member(member, owner.organization_id, Role.MEMBER)
    key, secret = await api.create_key(owner, "billing server")
    # when GitHub reports the key and the mail job runs
    status, _ = await post_github(client, signer, matches(secret))
    assert status == 200
    counts = await deliver(app, settings, clock)
    # then the owner and the admin got one mail each, the member none
    assert counts == {"sent": 2, "retried": 0, "failed": 0}
    received = smtp.inbox.received()
    assert sorted(message["To"] for message in received) == sorted([owner.email, admin.email])
    for message in received:
        assert "found in public" in message["Subject"]
        body = body_of(message)
        assert LEAK_URL in body and key["start"] in body and "billing server" in body
        assert "revoked" in body
        assert f"https://keys.example.org/orgs/{owner.organization_id}/keys" in body
        assert secret not in body
