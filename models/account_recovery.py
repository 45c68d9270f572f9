"""Changing and resetting a password.

`password_change` ends every other session of the user; `password_reset` ends them all. A reset
request answers the same whether or not the email has an account, and it counts toward the
sign-in brute-force limits (per email and per client address), as a wrong password does; so
does a wrong current password or a bad reset token. The reset token (`rst_…`, one hour, single
use) exists only in the mail; the database keeps its digest.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from tortoise.transactions import in_transaction

from models import tokens
from models.access import UserPrincipal
from models.accounts import check_password, email_key
from models.entities import PasswordReset, Session, User
from models.errors import InvalidCredentials, InvalidInput, ResetTokenInvalid
from models.mail import MAIL_KIND, password_reset_mail
from models.outbox import outbox_add
from models.passwords import Passwords
from models.policies import SignInLimits, TeamPolicy
from models.request_context import RequestContext
from models.security_log import SecurityAction, security_record
from models.sign_in_attempts import sign_in_attempt_start, sign_in_attempt_succeeded

log = logging.getLogger("keyward.accounts")


def _check_new(password: str) -> None:
    try:
        check_password(password)
    except InvalidInput as error:
        raise InvalidInput("newPassword", error.message) from None


async def password_change(
    *,
    principal: UserPrincipal,
    current_password: str,
    new_password: str,
    client_address: str,
    now: datetime,
    passwords: Passwords,
    limits: SignInLimits,
) -> int:
    """Set a new password when `current_password` is right; every other session of the user
    ends. Returns how many sessions ended. A wrong current password counts as a failed
    sign-in (a stolen session must not become a password oracle)."""
    _check_new(new_password)
    user = await User.get(id=principal.user_id)
    attempt = await sign_in_attempt_start(
        email=user.email, client_address=client_address, now=now, limits=limits
    )
    if not await passwords.verify(user.password_hash, current_password):
        raise InvalidCredentials("The current password is incorrect.")
    await sign_in_attempt_succeeded(attempt_id=attempt, email=user.email)
    password_hash = await passwords.hash(new_password)
    async with in_transaction():
        await User.filter(id=user.id).update(password_hash=password_hash)
        ended = await Session.filter(user_id=user.id).exclude(id=principal.session_id).delete()
        await PasswordReset.filter(user_id=user.id).delete()
        await security_record(
            user_id=user.id,
            action=SecurityAction.PASSWORD_CHANGED,
            details={"sessionsEnded": int(ended)},
            context=RequestContext.of(
                client_address=client_address, user_agent=None, request_id=None
            ),
            now=now,
        )
    return int(ended)


async def password_reset_request(
    *, email: str, client_address: str, now: datetime, policy: TeamPolicy, limits: SignInLimits
) -> None:
    """Queue a reset mail when `email` has an account (and mail is on); nothing tells the
    caller which. Raises `TooManyAttempts` past the limits, whether or not the email exists.
    The request's attempt row is kept: it counts like a failed sign-in."""
    await sign_in_attempt_start(email=email, client_address=client_address, now=now, limits=limits)
    if not policy.mail.enabled:
        log.warning("password reset requested, but mail is off (SMTP_URL is not set)")
        return
    user = await User.get_or_none(email_key=email_key(email))
    if user is None:
        return
    token = tokens.generate(tokens.TokenKind.PASSWORD_RESET, policy.token_prefix)
    mail = password_reset_mail(to=user.email, link=policy.mail.link(f"reset={token}"))
    async with in_transaction():
        await PasswordReset.create(
            user_id=user.id,
            digest=tokens.digest(token),
            created_at=now,
            expires_at=now + timedelta(seconds=policy.reset_ttl_seconds),
        )
        await outbox_add(kind=MAIL_KIND, payload=mail.payload(), now=now)
        await security_record(
            user_id=user.id,
            action=SecurityAction.PASSWORD_RESET_REQUESTED,
            context=RequestContext.of(
                client_address=client_address, user_agent=None, request_id=None
            ),
            now=now,
        )


async def password_reset(
    *,
    token: str,
    new_password: str,
    client_address: str,
    now: datetime,
    passwords: Passwords,
    limits: SignInLimits,
) -> int:
    """Set a new password with a reset token (once); every session of the user ends. Returns
    how many ended. A bad token counts toward the client address's sign-in limit."""
    _check_new(new_password)
    if tokens.parse(token) is not tokens.TokenKind.PASSWORD_RESET:
        raise ResetTokenInvalid()
    digest = tokens.digest(token)
    # Counted under the token's digest, never under an email: a bad token names no account.
    attempt = await sign_in_attempt_start(
        email=f"reset:{digest}", client_address=client_address, now=now, limits=limits
    )
    reset = await PasswordReset.get_or_none(digest=digest, expires_at__gt=now)
    if reset is None:
        raise ResetTokenInvalid()
    password_hash = await passwords.hash(new_password)
    async with in_transaction():
        if not await PasswordReset.filter(id=reset.id, expires_at__gt=now).delete():
            raise ResetTokenInvalid()  # used by a concurrent request
        await User.filter(id=reset.user_id).update(password_hash=password_hash)
        await PasswordReset.filter(user_id=reset.user_id).delete()
        ended = await Session.filter(user_id=reset.user_id).delete()
        await security_record(
            user_id=reset.user_id,
            action=SecurityAction.PASSWORD_RESET,
            details={"sessionsEnded": int(ended)},
            context=RequestContext.of(
                client_address=client_address, user_agent=None, request_id=None
            ),
            now=now,
        )
    await sign_in_attempt_succeeded(attempt_id=attempt, email=f"reset:{digest}")
    return int(ended)
