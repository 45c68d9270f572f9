"""Brute-force protection for sign-in: a bounded number of failures per (email, client address)
and per client address within a short sliding window, and per email across all addresses at a
much higher bar within a longer one (ASVS: an attacker elsewhere must not be able to lock a user
out cheaply), counted in the database so that every API process sees them.

An attempt is recorded *before* the password is checked (`sign_in_attempt_start`) and its row is
deleted when it succeeds or is refused, so the rows in a window are the failures plus the
attempts still in flight. An attempt is allowed when fewer than the limit of rows with a smaller
id lie in the window: concurrent attempts (aliases in one request, parallel requests, several
processes) are ordered by the autoincrement id, and each counts once. Refused attempts leave no
row, so hammering a locked email does not push its unlock time further out. On PostgreSQL an
insert whose commit trails a later insert's count may go unseen by it, so a burst of concurrent
attempts can, rarely, get one or two tries past the limit; never a sustained stream.
"""

from __future__ import annotations

import hashlib
import math
from datetime import datetime, timedelta

from models.accounts import SignedIn, email_key, user_sign_in
from models.entities import SignInAttempt
from models.errors import DomainError
from models.passwords import Passwords
from models.policies import AccountPolicy, SignInLimits
from models.request_context import NO_REQUEST, RequestContext


class TooManyAttempts(DomainError):
    message = "Too many failed sign-in attempts. Try again later."

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__()
        self.retry_after_seconds = retry_after_seconds


def email_digest(email: str) -> str:
    """The key attempts are counted under: people type passwords into email fields, so the
    typed text is never stored."""
    return hashlib.sha256(email_key(email).encode("utf-8", "surrogatepass")).hexdigest()


async def _retry_after(
    *, attempt_id: int, since: datetime, now: datetime, window: timedelta, limit: int, **scope: str
) -> int | None:
    """Seconds until the attempt would be allowed, or None when it is allowed now."""
    earlier = (
        SignInAttempt.filter(id__lt=attempt_id, attempted_at__gt=since, **scope)
        .order_by("-id")
        .offset(limit - 1)
        .limit(1)
    )
    rows = await earlier.values_list("attempted_at", flat=True)
    if not rows:
        return None
    unlocked_at: datetime = rows[0] + window  # type: ignore[operator]
    return max(1, math.ceil((unlocked_at - now).total_seconds()))


async def sign_in_attempt_start(
    *, email: str, client_address: str, now: datetime, limits: SignInLimits
) -> int:
    """Record an attempt and return its id; raises `TooManyAttempts` (leaving no row) when the
    (email, client address) pair, the email across all addresses, or the client address across
    all emails already has its limit of failures in its window."""
    attempt = await SignInAttempt.create(
        email_digest=email_digest(email), client_address=client_address[:64], attempted_at=now
    )
    short = timedelta(seconds=limits.window_seconds)
    long = timedelta(seconds=limits.email_window_seconds)
    pair = {"email_digest": attempt.email_digest, "client_address": attempt.client_address}
    checks: list[tuple[timedelta, int, dict[str, str]]] = [
        (short, limits.max_failures_per_email_and_address, pair),
        (long, limits.max_failures_per_email, {"email_digest": attempt.email_digest}),
        (short, limits.max_failures_per_address, {"client_address": attempt.client_address}),
    ]
    waits = [
        await _retry_after(
            attempt_id=attempt.id, since=now - window, now=now, window=window, limit=limit, **scope
        )
        for window, limit, scope in checks
    ]
    refused = [wait for wait in waits if wait is not None]
    if refused:
        await SignInAttempt.filter(id=attempt.id).delete()
        raise TooManyAttempts(retry_after_seconds=max(refused))
    return int(attempt.id)


async def sign_in_attempt_succeeded(*, attempt_id: int, email: str) -> None:
    """The right password: this attempt and the email's earlier failures no longer count (only
    someone who knows the password can reset them). The address's failures still do."""
    await SignInAttempt.filter(id=attempt_id).delete()
    await SignInAttempt.filter(email_digest=email_digest(email)).update(email_digest="")


async def user_sign_in_limited(
    *,
    email: str,
    password: str,
    client_address: str,
    now: datetime,
    passwords: Passwords,
    policy: AccountPolicy,
    context: RequestContext = NO_REQUEST,
) -> SignedIn:
    """`user_sign_in` behind the brute-force limits: raises `TooManyAttempts` once the email or
    the client address has too many recent failures, even for the right password."""
    attempt_id = await sign_in_attempt_start(
        email=email, client_address=client_address, now=now, limits=policy.sign_in
    )
    signed_in = await user_sign_in(
        email=email,
        password=password,
        now=now,
        passwords=passwords,
        policy=policy,
        context=context,
    )
    await sign_in_attempt_succeeded(attempt_id=attempt_id, email=email)
    return signed_in
