"""The `deliver-mail` job: sends the outbox's mail over SMTP (aiosmtplib), then deletes it.

`SMTP_URL` says where: `smtp://user:pass@host:587` upgrades with STARTTLS when the server offers
it, `smtps://user:pass@host:465` speaks TLS from the first byte. A failed send is retried after
1 min, 5 min, 30 min, 2 h and 6 h (`models.outbox`), then marked failed and logged. The log
lines carry the message id and the error's class, never an address or a body.
"""

from __future__ import annotations

import email.utils
import logging
from dataclasses import dataclass
from email.message import EmailMessage
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

import aiosmtplib

from models.mail import MAIL_KIND, Mail
from models.outbox import outbox_attempt_failed, outbox_claim, outbox_delivered

if TYPE_CHECKING:
    from jobs.housekeeping import JobEnv

log = logging.getLogger("keyward.mail")

# Messages claimed per batch: a send takes tens of milliseconds, so a batch stays well inside
# the lease, and the runner checks between batches whether to stop.
BATCH_SIZE = 20
# One SMTP conversation may take this long before the attempt counts as failed.
SMTP_TIMEOUT_SECONDS = 15.0


@dataclass(frozen=True)
class SmtpServer:
    hostname: str
    port: int
    username: str | None
    password: str | None
    implicit_tls: bool

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        parts = urlsplit(url)
        implicit_tls = parts.scheme == "smtps"
        return cls(
            hostname=parts.hostname or "localhost",
            port=parts.port or (465 if implicit_tls else 587),
            username=None if parts.username is None else unquote(parts.username),
            password=None if parts.password is None else unquote(parts.password),
            implicit_tls=implicit_tls,
        )

    async def send(self, mail: Mail, *, sender: str) -> None:
        message = EmailMessage()
        message["From"] = sender
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message["Date"] = email.utils.formatdate(usegmt=True)
        message["Message-ID"] = email.utils.make_msgid(domain="keyward")
        message.set_content(mail.body)
        await aiosmtplib.send(
            message,
            hostname=self.hostname,
            port=self.port,
            username=self.username,
            password=self.password,
            use_tls=self.implicit_tls,
            start_tls=False if self.implicit_tls else None,  # None: STARTTLS when offered
            timeout=SMTP_TIMEOUT_SECONDS,
        )


async def deliver_mail(env: JobEnv) -> dict[str, int]:
    """Send every due mail, batch by batch, until none is due or the runner says stop."""
    counts = {"sent": 0, "retried": 0, "failed": 0}
    if not env.settings.smtp_url:
        return counts
    server = SmtpServer.from_url(env.settings.smtp_url)
    while True:
        batch = await outbox_claim(kind=MAIL_KIND, now=env.now, limit=BATCH_SIZE)
        for message in batch:
            try:
                await server.send(Mail.from_payload(message.payload), sender=env.settings.mail_from)
            except Exception as error:  # one bad message must not hold up the others
                gave_up = await outbox_attempt_failed(
                    message=message, error=f"{type(error).__name__}: {error}", now=env.now
                )
                counts["failed" if gave_up else "retried"] += 1
                if gave_up:
                    log.error(
                        "mail failed for good: outbox_id=%d attempts=%d error=%s",
                        message.id,
                        message.attempts + 1,
                        type(error).__name__,
                    )
                continue
            await outbox_delivered(message_id=message.id)
            counts["sent"] += 1
        if len(batch) < BATCH_SIZE or not await env.keep_going():
            return counts
