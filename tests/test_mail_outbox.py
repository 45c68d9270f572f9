"""Mail that is never lost: invitations and password resets are written to the outbox in the
mutation's transaction, and the `deliver-mail` job sends them to a real SMTP server (aiosmtpd,
in this process): once, with the link, and again after a retry when the server was down."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from aiohttp import web

from jobs.runner import JobRun, JobRunner
from models.entities import Organization, OutboxMessage
from models.outbox import RETRY_DELAYS_SECONDS, outbox_add, outbox_attempt_failed, outbox_claim
from settings import Settings
from tests.harness import FAST_PASSWORDS, Api, Clock
from tests.team_support import (
    REQUEST_PASSWORD_RESET,
    SmtpServer,
    body_of,
    free_port,
    invite,
)
from web.state import DATABASE


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server on a free loopback port; each test starts it when it wants it up."""
    server = SmtpServer(free_port())
    yield server
    server.stop()


@pytest.fixture
def settings(database_url: str, smtp: SmtpServer) -> Settings:
    return Settings(
        database_url=database_url,
        smtp_url=smtp.url,
        mail_from="keyward <keys@example.org>",
        public_url="https://keys.example.org",
        **FAST_PASSWORDS,  # type: ignore[arg-type]
    )


async def deliver(app: web.Application, settings: Settings, clock: Clock) -> dict[str, int]:
    run: JobRun | None = await JobRunner(
        settings=settings, database=app[DATABASE], clock=clock
    ).run_now("deliver-mail", wait_seconds=0)
    assert run is not None
    return run.counts


async def test_an_invitation_is_mailed_once_with_its_link(
    api: Api, app: web.Application, settings: Settings, clock: Clock, smtp: SmtpServer, db: None
) -> None:
    # given a running SMTP server and an owner with a secret key
    smtp.start()
    owner = await api.sign_up()
    _, secret = await api.create_key(owner)
    # when the owner invites someone and the job runs (twice)
    invited = await invite(api, owner, "ada@example.com", "ADMIN")
    assert invited["mailed"] is True
    assert invited["invitationLink"].startswith("https://keys.example.org/#invitation=inv_")
    first = await deliver(app, settings, clock)
    second = await deliver(app, settings, clock)
    # then exactly one mail arrived, to the invited address, with the link and no key
    assert (first, second) == (
        {"sent": 1, "retried": 0, "failed": 0},
        {"sent": 0, "retried": 0, "failed": 0},
    )
    [message] = smtp.inbox.received()
    assert message["To"] == "ada@example.com"
    assert message["From"] == "keyward <keys@example.org>"
    assert "My organization" in message["Subject"]
    body = body_of(message)
    assert invited["invitationLink"] in body
    assert "as admin" in body and owner.email in body
    assert secret not in body and "sk_" not in body
    # and the outbox no longer holds it (nor its link)
    assert await OutboxMessage.all().count() == 0


async def test_a_server_down_fails_no_mutation_and_the_mail_arrives_after_the_retry(
    api: Api, app: web.Application, settings: Settings, clock: Clock, smtp: SmtpServer, db: None
) -> None:
    # given the SMTP server is down when someone is invited
    owner = await api.sign_up()
    invited = await invite(api, owner, "ada@example.com")
    assert invited["__typename"] == "MemberInvited"
    # when the job runs: the attempt fails and is retried later
    assert await deliver(app, settings, clock) == {"sent": 0, "retried": 1, "failed": 0}
    row = await OutboxMessage.get()
    assert row.attempts == 1 and row.last_error and row.failed_at is None
    # and the server comes back, but the retry is not due for a minute
    smtp.start()
    clock.advance(seconds=59)
    assert await deliver(app, settings, clock) == {"sent": 0, "retried": 0, "failed": 0}
    assert smtp.inbox.received() == []
    # then a minute after the failure, it arrives, once
    clock.advance(seconds=1)
    assert await deliver(app, settings, clock) == {"sent": 1, "retried": 0, "failed": 0}
    [message] = smtp.inbox.received()
    assert invited["invitationLink"] in body_of(message)
    assert await OutboxMessage.all().count() == 0


async def test_retries_back_off_then_fail_and_are_logged(
    api: Api,
    app: web.Application,
    settings: Settings,
    clock: Clock,
    db: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # given a mail and an SMTP server that never comes up
    owner = await api.sign_up()
    await invite(api, owner, "ada@example.com")
    # when the job runs at each retry's time
    nothing = {"sent": 0, "retried": 0, "failed": 0}
    attempts_at = [await deliver(app, settings, clock)]
    for delay in RETRY_DELAYS_SECONDS:
        # (a second before each retry is due, nothing is tried)
        clock.advance(seconds=delay - 1)
        assert await deliver(app, settings, clock) == nothing
        clock.advance(seconds=1)
        attempts_at.append(await deliver(app, settings, clock))
    # then it was tried six times (at 0, +1 min, +5 min, +30 min, +2 h, +6 h), then failed
    assert attempts_at[:-1] == [{"sent": 0, "retried": 1, "failed": 0}] * 5
    assert attempts_at[-1] == {"sent": 0, "retried": 0, "failed": 1}
    row = await OutboxMessage.get()
    assert row.failed_at == clock.now and row.attempts == 6
    # and the failed message keeps no body (it held a link), and a line says it failed
    assert "body" not in row.payload
    assert "mail failed for good" in caplog.text and "ada@example.com" not in caplog.text
    # and nothing more is tried
    clock.advance(days=2)
    assert await deliver(app, settings, clock) == nothing


async def test_a_retry_is_not_due_before_its_time(clock: Clock, api: Api, db: None) -> None:
    # given a message that failed once
    message = await outbox_add(kind="mail", payload={"to": "x"}, now=clock.now)
    [claimed] = await outbox_claim(kind="mail", now=clock.now, limit=10)
    assert claimed.id == message.id
    assert await outbox_attempt_failed(message=claimed, error="down", now=clock.now) is False
    # then it is not claimed until a minute later
    before = clock.now + timedelta(seconds=RETRY_DELAYS_SECONDS[0] - 1)
    assert await outbox_claim(kind="mail", now=before, limit=10) == []
    later = clock.now + timedelta(seconds=RETRY_DELAYS_SECONDS[0])
    assert [m.id for m in await outbox_claim(kind="mail", now=later, limit=10)] == [message.id]


async def test_a_claimed_message_is_claimed_once(clock: Clock, api: Api, db: None) -> None:
    # given a due message
    await outbox_add(kind="mail", payload={"to": "x"}, now=clock.now)
    # when two workers claim at the same instant, one after the other
    first = await outbox_claim(kind="mail", now=clock.now, limit=10)
    second = await outbox_claim(kind="mail", now=clock.now, limit=10)
    # then only the first got it
    assert len(first) == 1 and second == []


async def test_a_password_reset_is_mailed(
    api: Api, app: web.Application, settings: Settings, clock: Clock, smtp: SmtpServer, db: None
) -> None:
    smtp.start()
    account = await api.sign_up()
    data = await api.query(REQUEST_PASSWORD_RESET, {"input": {"email": account.email.upper()}})
    assert data["requestPasswordReset"]["__typename"] == "PasswordResetRequested"
    assert await deliver(app, settings, clock) == {"sent": 1, "retried": 0, "failed": 0}
    [message] = smtp.inbox.received()
    assert message["To"] == account.email
    assert "https://keys.example.org/#reset=rst_" in body_of(message)


async def test_a_broken_message_holds_up_no_other(
    api: Api, app: web.Application, settings: Settings, clock: Clock, smtp: SmtpServer, db: None
) -> None:
    # given a message that cannot be sent (no subject, no body) queued before a good one, and
    # an organization whose name holds a line break (a header must not)
    smtp.start()
    await outbox_add(kind="mail", payload={"to": "x@example.com"}, now=clock.now)
    owner = await api.sign_up(organizationName="Acme")
    await Organization.filter(id=owner.organization_id).update(name="Acme\r\nBcc: spy@example.com")
    await invite(api, owner, "ada@example.com")
    # when the job runs
    counts = await deliver(app, settings, clock)
    # then the good one is delivered, with a one-line subject, and the broken one waits
    assert counts == {"sent": 1, "retried": 1, "failed": 0}
    [message] = smtp.inbox.received()
    assert message["Subject"] == "You are invited to Acme Bcc: spy@example.com on keyward"
    assert message["Bcc"] is None
