"""The mail settings: validated at start, secrets kept out of reprs; and without SMTP_URL
nothing is mailed (the inviter copies the link; a reset request logs that mail is off)."""

from __future__ import annotations

import pytest

from models.entities import OutboxMessage, PasswordReset
from settings import Settings, SettingsError
from tests.harness import Api
from tests.team_support import REQUEST_PASSWORD_RESET, invite


def test_mail_settings_are_read_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "SMTP_URL": "smtps://mailer:s3cret@mail.example.org:465",
            "MAIL_FROM": "keyward <keys@example.org>",
            "PUBLIC_URL": "https://keys.example.org",
            "INVITATION_TTL_SECONDS": "86400",
        }
    )
    teams = settings.policies().teams
    assert teams.invitation_ttl_seconds == 86_400
    assert teams.mail.enabled is True
    assert teams.mail.link("invitation=x") == "https://keys.example.org/#invitation=x"
    assert "s3cret" not in repr(settings)
    assert "smtps://mailer:***@mail.example.org:465" in repr(settings)


def test_defaults_mail_nothing() -> None:
    teams = Settings.from_env({}).policies().teams
    assert teams.mail.enabled is False
    assert teams.mail.public_url == "http://127.0.0.1:8000"
    assert teams.invitation_ttl_seconds == 7 * 24 * 3600


@pytest.mark.parametrize(
    "env",
    [
        {"SMTP_URL": "http://mail.example.org"},
        {"SMTP_URL": "smtp://"},
        {"SMTP_URL": "smtp://host:99999"},
        {"PUBLIC_URL": "keys.example.org"},
        {"PUBLIC_URL": "https://keys.example.org/"},
        {"MAIL_FROM": "nobody"},
        {"INVITATION_TTL_SECONDS": "60"},
        {"INVITATION_TTL_SECONDS": "a week"},
    ],
)
def test_bad_mail_settings_stop_the_start(env: dict[str, str]) -> None:
    with pytest.raises(SettingsError):
        Settings.from_env(env)


async def test_without_smtp_nothing_is_mailed(
    api: Api, db: None, caplog: pytest.LogCaptureFixture
) -> None:
    # given a deployment without SMTP_URL
    account = await api.sign_up()
    # when someone is invited and a reset is asked for
    invited = await invite(api, account, "ada@example.com")
    data = await api.query(REQUEST_PASSWORD_RESET, {"input": {"email": account.email}})
    # then the inviter gets the link to pass on, the reset request answers as always and logs
    # that mail is off, and nothing waits in the outbox
    assert invited["mailed"] is False and "#invitation=inv_" in invited["invitationLink"]
    assert data["requestPasswordReset"]["__typename"] == "PasswordResetRequested"
    assert "mail is off" in caplog.text
    assert await OutboxMessage.all().count() == 0
    assert await PasswordReset.all().count() == 0
