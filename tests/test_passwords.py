"""changePassword, requestPasswordReset and resetPassword: sessions end as promised, the reset
request answers alike whether or not the email exists, and all of it counts toward the sign-in
brute-force limits."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from models.entities import OutboxMessage, PasswordReset, SignInAttempt
from models.mail import Mail
from settings import Settings
from tests.harness import FAST_PASSWORDS, PASSWORD, SIGN_IN, Api, Clock
from tests.support import ME, assert_code, unknown_token
from tests.team_support import (
    CHANGE_PASSWORD,
    REQUEST_PASSWORD_RESET,
    RESET_PASSWORD,
    SmtpServer,
    free_port,
)

NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer(free_port())  # never started: these tests read the outbox itself
    yield server


@pytest.fixture
def settings(database_url: str, smtp: SmtpServer) -> Settings:
    return Settings(
        database_url=database_url,
        smtp_url=smtp.url,
        sign_in_max_failures_per_email=3,
        **FAST_PASSWORDS,  # type: ignore[arg-type]
    )


async def signed_in(api: Api, session: str) -> bool:
    status, body = await api.raw(ME, token=session)
    return status == 200 and body["data"]["me"] is not None


async def sign_in_as(api: Api, email: str, password: str) -> str:
    data = await api.query(SIGN_IN, {"input": {"email": email, "password": password}})
    return str(data["signIn"]["__typename"])


async def reset_token(email: str) -> str:
    """The token in the newest reset mail queued for `email`."""
    rows = await OutboxMessage.filter(kind="mail").order_by("-id")
    for row in rows:
        mail = Mail.from_payload(row.payload)
        if mail.to == email and "#reset=" in mail.body:
            return mail.body.split("#reset=")[1].split()[0]
    raise AssertionError("no reset mail")


async def test_change_password_ends_every_other_session(api: Api) -> None:
    # given an account signed in twice
    account = await api.sign_up()
    other = await api.sign_in(account.email)
    # when it changes its password in the first session
    data = await api.query(
        CHANGE_PASSWORD,
        {"input": {"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD}},
        token=account.session,
    )
    # then the other session has ended, this one goes on, and only the new password works
    assert data["changePassword"] == {"__typename": "PasswordChanged", "endedSessions": 1}
    assert await signed_in(api, account.session)
    assert not await signed_in(api, other)
    assert await sign_in_as(api, account.email, PASSWORD) == "InvalidCredentials"
    assert await sign_in_as(api, account.email, NEW_PASSWORD) == "SignedIn"


async def test_change_password_checks_both_passwords(api: Api) -> None:
    account = await api.sign_up()
    other = await api.sign_in(account.email)
    wrong = await api.query(
        CHANGE_PASSWORD,
        {"input": {"currentPassword": "not it at all", "newPassword": NEW_PASSWORD}},
        token=account.session,
    )
    assert wrong["changePassword"]["__typename"] == "InvalidCredentials"
    short = await api.query(
        CHANGE_PASSWORD,
        {"input": {"currentPassword": PASSWORD, "newPassword": "short"}},
        token=account.session,
    )
    assert (short["changePassword"]["__typename"], short["changePassword"]["field"]) == (
        "InvalidInput",
        "newPassword",
    )
    # and nothing changed
    assert await signed_in(api, other)
    assert await sign_in_as(api, account.email, PASSWORD) == "SignedIn"


async def test_wrong_current_passwords_count_toward_the_sign_in_limit(api: Api) -> None:
    # given a limit of 3 failures per email
    account = await api.sign_up()
    variables = {"input": {"currentPassword": "guess guess", "newPassword": NEW_PASSWORD}}
    for _ in range(3):
        data = await api.query(CHANGE_PASSWORD, variables, token=account.session)
        assert data["changePassword"]["__typename"] == "InvalidCredentials"
    # then the next guess, and even signing in, is refused for a while
    data = await api.query(CHANGE_PASSWORD, variables, token=account.session)
    assert data["changePassword"]["__typename"] == "TooManyAttempts"
    assert await sign_in_as(api, account.email, PASSWORD) == "TooManyAttempts"


async def test_change_password_needs_a_signed_in_user(api: Api) -> None:
    account = await api.sign_up()
    _, secret = await api.create_key(account)
    variables = {"input": {"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD}}
    assert_code(await api.error(CHANGE_PASSWORD, variables), "UNAUTHENTICATED")
    assert_code(await api.error(CHANGE_PASSWORD, variables, token=secret), "FORBIDDEN")


async def test_reset_answers_alike_for_known_and_unknown_emails(api: Api, db: None) -> None:
    account = await api.sign_up()
    answers = []
    for email in (account.email, "nobody@example.com"):
        data = await api.query(REQUEST_PASSWORD_RESET, {"input": {"email": email}})
        answers.append(data["requestPasswordReset"])
    assert [a["__typename"] for a in answers] == ["PasswordResetRequested"] * 2
    # and only the known email got a reset (and a mail)
    assert await PasswordReset.all().count() == 1
    assert await OutboxMessage.all().count() == 1


async def test_reset_password_with_the_mailed_token(api: Api, clock: Clock, db: None) -> None:
    # given an account signed in twice that asks for a reset
    account = await api.sign_up()
    other = await api.sign_in(account.email)
    await api.query(REQUEST_PASSWORD_RESET, {"input": {"email": account.email}})
    token = await reset_token(account.email)
    assert token.startswith("rst_")
    assert await PasswordReset.filter(digest=token).count() == 0  # only its digest is kept
    clock.advance(minutes=59)
    # when the token sets a new password
    data = await api.query(RESET_PASSWORD, {"input": {"token": token, "newPassword": NEW_PASSWORD}})
    # then every session has ended and only the new password works
    assert data["resetPassword"] == {"__typename": "PasswordReset", "endedSessions": 2}
    assert not await signed_in(api, account.session)
    assert not await signed_in(api, other)
    assert await sign_in_as(api, account.email, NEW_PASSWORD) == "SignedIn"
    # and the token works once
    again = await api.query(
        RESET_PASSWORD, {"input": {"token": token, "newPassword": "yet another one"}}
    )
    assert again["resetPassword"]["__typename"] == "ResetTokenInvalid"


async def test_a_reset_token_ends_after_an_hour(api: Api, clock: Clock, db: None) -> None:
    account = await api.sign_up()
    await api.query(REQUEST_PASSWORD_RESET, {"input": {"email": account.email}})
    token = await reset_token(account.email)
    clock.advance(hours=1)
    data = await api.query(RESET_PASSWORD, {"input": {"token": token, "newPassword": NEW_PASSWORD}})
    assert data["resetPassword"]["__typename"] == "ResetTokenInvalid"
    assert await sign_in_as(api, account.email, PASSWORD) == "SignedIn"


async def test_bad_reset_tokens_and_passwords(api: Api, db: None) -> None:
    from models import tokens

    account = await api.sign_up()
    for token in ("", "rst_nope", unknown_token(tokens.TokenKind.PASSWORD_RESET), account.session):
        data = await api.query(
            RESET_PASSWORD, {"input": {"token": token, "newPassword": NEW_PASSWORD}}
        )
        assert data["resetPassword"]["__typename"] == "ResetTokenInvalid"
    await api.query(REQUEST_PASSWORD_RESET, {"input": {"email": account.email}})
    token = await reset_token(account.email)
    data = await api.query(RESET_PASSWORD, {"input": {"token": token, "newPassword": "short"}})
    assert (data["resetPassword"]["__typename"], data["resetPassword"]["field"]) == (
        "InvalidInput",
        "newPassword",
    )
    # and the token still works after a refused password
    data = await api.query(RESET_PASSWORD, {"input": {"token": token, "newPassword": NEW_PASSWORD}})
    assert data["resetPassword"]["__typename"] == "PasswordReset"


async def test_reset_requests_are_limited_per_email(api: Api, db: None) -> None:
    # given a limit of 3 per email, for an email with or without an account
    account = await api.sign_up()
    for email in (account.email, f"{uuid.uuid4().hex}@example.com"):
        for _ in range(3):
            data = await api.query(REQUEST_PASSWORD_RESET, {"input": {"email": email}})
            assert data["requestPasswordReset"]["__typename"] == "PasswordResetRequested"
        # then the fourth is refused alike
        data = await api.query(REQUEST_PASSWORD_RESET, {"input": {"email": email}})
        assert data["requestPasswordReset"]["__typename"] == "TooManyAttempts"
    # and they count toward signing in with that email
    assert await sign_in_as(api, account.email, PASSWORD) == "TooManyAttempts"
    assert await SignInAttempt.all().count() == 6
