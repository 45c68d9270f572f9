"""People and their organizations: sign-up, sign-in, sessions, organizations and memberships."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import tokens
from models.api_keys import clean_name, default_api_key_create
from models.audit import SYSTEM, Actor, ActorType, Target, audit_record, key_target
from models.entities import Membership, Organization, Role, Session, User
from models.errors import EmailTaken, InvalidCredentials, InvalidInput, Problems
from models.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, Passwords
from models.policies import AccountPolicy, KeyPolicy
from models.request_context import NO_REQUEST, RequestContext
from models.security_log import SecurityAction, security_record
from models.sign_up_limits import sign_up_admit
from models.text import clean_text, encodable, text_acceptable

DEFAULT_ORGANIZATION_NAME = "My organization"
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@dataclass(frozen=True)
class SignedIn:
    user: User
    session_id: uuid.UUID
    session_token: str


def email_key(email: str) -> str:
    """The one normalisation of an email: one account per address, whatever its case or the
    spaces around it. Sign-up, sign-in and the brute-force counters all use it."""
    return email.strip().lower()


def clean_email(email: str) -> str:
    email = clean_text(email, "email", "An email address").strip()
    if len(email) > 254 or not _EMAIL.fullmatch(email):
        raise InvalidInput("email", "Enter a valid email address.")
    return email


def check_password(password: str) -> None:
    if not encodable(password):
        raise InvalidInput("password", "A password may not contain unpaired surrogates.")
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise InvalidInput(
            "password",
            f"A password needs {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters.",
        )


async def _session_start(*, user: User, now: datetime, policy: AccountPolicy) -> SignedIn:
    token = tokens.generate(tokens.TokenKind.SESSION, policy.token_prefix)
    session = await Session.create(
        user=user,
        digest=tokens.digest(token),
        created_at=now,
        expires_at=now + timedelta(seconds=policy.session_ttl_seconds),
    )
    return SignedIn(user=user, session_id=session.id, session_token=token)


def user_actor(user: User) -> Actor:
    return Actor(ActorType.USER, str(user.id), user.email)


async def _organization_found(
    *, user: User, name: str, now: datetime, policy: KeyPolicy, context: RequestContext
) -> Organization:
    """Inside the caller's transaction: the organization, its OWNER, its Default API Key, and
    their two audit events (the key's by SYSTEM: nobody chose to make it)."""
    organization = await Organization.create(name=name, created_at=now)
    await Membership.create(user=user, organization=organization, role=Role.OWNER, created_at=now)
    key = await default_api_key_create(organization_id=organization.id, now=now, policy=policy)
    await audit_record(
        organization_id=organization.id,
        action="organization.created",
        actor=user_actor(user),
        target=Target("organization", str(organization.id), name),
        details={"name": name},
        context=context,
        now=now,
    )
    await audit_record(
        organization_id=organization.id,
        action="api_key.created",
        actor=SYSTEM,
        target=key_target(key.id, key.name),
        details={"start": key.start, "type": key.type.value, "expiresAt": None, "default": True},
        context=context,
        now=now,
    )
    return organization


async def user_sign_up(
    *,
    email: str,
    password: str,
    organization_name: str | None,
    now: datetime,
    passwords: Passwords,
    policy: AccountPolicy,
    key_policy: KeyPolicy,
    client_address: str = "",
    context: RequestContext = NO_REQUEST,
) -> SignedIn:
    """Create a user, their first organization (its OWNER) with its public Default API Key,
    and a session. All or nothing: a taken email leaves no row behind. Every bad field is
    reported at once. One client address may sign up `sign_up_max_per_address_per_hour` times
    an hour (`TooManySignUps`)."""
    problems = Problems()
    for check in (
        lambda: clean_email(email),
        lambda: check_password(password),
        lambda: clean_name(organization_name or DEFAULT_ORGANIZATION_NAME, "organizationName"),
    ):
        try:
            check()
        except InvalidInput as error:
            problems.catch(error)
    problems.check()
    email = clean_email(email)
    org_name = clean_name(organization_name or DEFAULT_ORGANIZATION_NAME, "organizationName")
    await sign_up_admit(
        client_address=client_address, now=now, limit=policy.sign_up_max_per_address_per_hour
    )
    if await User.filter(email_key=email_key(email)).exists():
        raise EmailTaken()
    password_hash = await passwords.hash(password)
    try:
        async with in_transaction():
            user = await User.create(
                email=email, email_key=email_key(email), password_hash=password_hash, created_at=now
            )
            await _organization_found(
                user=user, name=org_name, now=now, policy=key_policy, context=context
            )
            signed_in = await _session_start(user=user, now=now, policy=policy)
            await security_record(
                user_id=user.id,
                action=SecurityAction.SIGNED_UP,
                actor=user_actor(user),
                details={"sessionId": str(signed_in.session_id)},
                context=context,
                now=now,
            )
            return signed_in
    except IntegrityError:
        raise EmailTaken() from None


async def user_sign_in(
    *,
    email: str,
    password: str,
    now: datetime,
    passwords: Passwords,
    policy: AccountPolicy,
    context: RequestContext = NO_REQUEST,
) -> SignedIn:
    """A new session for the right email and password. A wrong password and an unknown email
    fail alike, and cost the same argon2 work. Both outcomes for an existing user go to their
    security log. Text no account can hold (a NUL, an unpaired surrogate) fails alike without
    reaching the database."""
    if not (text_acceptable(email) and encodable(password)):
        raise InvalidCredentials()
    user = await User.get_or_none(email_key=email_key(email))
    ok = await passwords.verify(user.password_hash if user else None, password)
    if user is None:
        raise InvalidCredentials()
    if not ok:
        await security_record(
            user_id=user.id,
            action=SecurityAction.SIGN_IN_FAILED,
            actor=user_actor(user),
            details={"reason": "wrong password"},
            context=context,
            now=now,
        )
        raise InvalidCredentials()
    async with in_transaction():
        signed_in = await _session_start(user=user, now=now, policy=policy)
        await security_record(
            user_id=user.id,
            action=SecurityAction.SIGNED_IN,
            actor=user_actor(user),
            details={"sessionId": str(signed_in.session_id)},
            context=context,
            now=now,
        )
        return signed_in


async def session_end(
    *,
    user_id: uuid.UUID,
    session_id: uuid.UUID,
    now: datetime,
    context: RequestContext = NO_REQUEST,
) -> bool:
    """Sign out: end the user's session at once; True when it was still there."""
    async with in_transaction():
        ended = await Session.filter(id=session_id, user_id=user_id).delete() > 0
        if ended:
            await security_record(
                user_id=user_id,
                action=SecurityAction.SIGNED_OUT,
                details={"sessionId": str(session_id)},
                context=context,
                now=now,
            )
        return ended


async def organization_create(
    *,
    user_id: uuid.UUID,
    name: str,
    now: datetime,
    policy: KeyPolicy,
    max_organizations: int,
    context: RequestContext = NO_REQUEST,
) -> Organization:
    """A new organization owned by the user, with its public Default API Key; `InvalidInput`
    once the user belongs to `max_organizations` (the user's row is locked while counting, so
    concurrent requests cannot pass the limit together on PostgreSQL; SQLite has one writer)."""
    name = clean_name(name, "name")
    async with in_transaction():
        user = await User.select_for_update().get(id=user_id)
        if await Membership.filter(user_id=user_id).count() >= max_organizations:
            raise InvalidInput(
                "name",
                f"You belong to {max_organizations} organizations, the most one user may have.",
            )
        return await _organization_found(
            user=user, name=name, now=now, policy=policy, context=context
        )


async def user_get(*, user_id: uuid.UUID) -> User | None:
    return await User.get_or_none(id=user_id)
