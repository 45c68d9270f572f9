"""The mails keyward sends, as plain data for the outbox: who to, the subject, the text.

A mail may carry an invitation or password-reset link (that is its purpose) but never an API
key: the functions here take no key, only the link they are given.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

MAIL_KIND = "mail"


@dataclass(frozen=True, slots=True)
class Mail:
    to: str
    subject: str
    body: str

    def payload(self) -> dict[str, Any]:
        return {"to": self.to, "subject": self.subject, "body": self.body}

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Mail:
        return cls(
            to=str(payload["to"]), subject=str(payload["subject"]), body=str(payload["body"])
        )


def _one_line(text: str) -> str:
    """Text fit for a header: a name may hold line breaks, a header must not."""
    return " ".join(text.split())


def invitation_mail(
    *,
    to: str,
    organization_name: str,
    role: str,
    inviter_email: str | None,
    link: str,
    expires_at: datetime,
) -> Mail:
    who = inviter_email or "Someone"
    organization_name = _one_line(organization_name)
    return Mail(
        to=to,
        subject=f"You are invited to {organization_name} on keyward",
        body=(
            f"{who} invited you to join {organization_name} on keyward as {role.lower()}.\n\n"
            f"Accept the invitation here (sign in or sign up with this email address):\n"
            f"{link}\n\n"
            f"The link works once, until {expires_at:%Y-%m-%d %H:%M} UTC. If you did not expect "
            f"it, ignore this mail.\n"
        ),
    )


def password_reset_mail(*, to: str, link: str) -> Mail:
    return Mail(
        to=to,
        subject="Reset your keyward password",
        body=(
            "Someone asked to reset the password of your keyward account.\n\n"
            f"Choose a new password here (the link works once, for one hour):\n{link}\n\n"
            "Every session of the account ends when the password is reset. If you did not ask, "
            "ignore this mail: your password stays as it is.\n"
        ),
    )


def leaked_keys_mail(
    *, to: str, organization_name: str, leaks: list[tuple[str, str, str | None, bool]], link: str
) -> Mail:
    """Keys of the organization found in public: (name, start, url, revoked) each. Names only
    the key's start, never a token."""
    organization_name = _one_line(organization_name)
    lines = []
    for name, start, url, revoked in leaks:
        fate = "revoked: deleted at once" if revoked else "NOT revoked: roll or delete it"
        where = url or "reported to keyward by someone who found it"
        lines.append(f"- {_one_line(name)} ({start}…), {fate}\n  found in: {where}")
    count = "A key" if len(leaks) == 1 else f"{len(leaks)} keys"
    return Mail(
        to=to,
        subject=f"{count} of {organization_name} found in public",
        body=(
            f"{count} of {organization_name} on keyward turned up where anyone can read it:\n\n"
            + "\n".join(lines)
            + "\n\nA revoked key no longer works: make a new one for whatever used it. Whoever "
            "found the others may use them until you roll or delete them.\n\n"
            f"See the organization's keys here:\n{link}\n"
        ),
    )


def expiry_notice_mail(
    *,
    to: str,
    organization_name: str,
    key_name: str,
    key_start: str,
    rolled: bool,
    expires_at: datetime,
    link: str,
    settings_link: str,
) -> Mail:
    """An `api_key.expiring` notice: which key (name and `start`, never the token), when it
    stops working, and where to see it."""
    key_name, organization_name = _one_line(key_name), _one_line(organization_name)
    when = f"{expires_at:%Y-%m-%d %H:%M} UTC"
    advice = (
        "It was rolled: its replacement already works. Move whatever still sends this key to the "
        "replacement before then."
        if rolled
        else "Roll it (or create a new key) before then, and move whatever sends it to the new key."
    )
    return Mail(
        to=to,
        subject=f"API key {key_name} of {organization_name} stops working on {when}",
        body=(
            f'The API key "{key_name}" ({key_start}…) of {organization_name} on keyward stops '
            f"working at {when}.\n\n{advice}\n\nSee the key here:\n{link}\n\n"
            f"You get this mail as an owner or admin of {organization_name}. To stop expiry "
            f"notices by mail, turn them off on your account page:\n{settings_link}\n"
        ),
    )
