"""People and their organizations: sign-up, sign-in, sessions, organizations and memberships."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import tokens
from models.api_keys import api_key_create, clean_name
from models.entities import ApiKeyType, Membership, Organization, Role, Session, User
from models.errors import EmailTaken, InvalidCredentials, InvalidInput
from models.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, Passwords

DEFAULT_ORGANIZATION_NAME = "My organization"
DEFAULT_API_KEY_NAME = "Default API Key"
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@dataclass(frozen=True)
class SignedIn:
    user: User
    session_id: uuid.UUID
    session_token: str


def clean_email(email: str) -> str:
    email = email.strip()
    if len(email) > 254 or not _EMAIL.fullmatch(email):
        raise InvalidInput("email", "Enter a valid email address.")
    return email


def check_password(password: str) -> None:
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise InvalidInput(
            "password",
            f"A password needs {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters.",
        )


async def _session_start(
    *, user: User, now: datetime, ttl_seconds: int, token_prefix: str
) -> SignedIn:
    token = tokens.generate(tokens.TokenKind.SESSION, token_prefix)
    session = await Session.create(
        user=user,
        digest=tokens.digest(token),
        created_at=now,
        expires_at=now + timedelta(seconds=ttl_seconds),
    )
    return SignedIn(user=user, session_id=session.id, session_token=token)


async def _organization_found(
    *, user: User, name: str, now: datetime, token_prefix: str
) -> Organization:
    organization = await Organization.create(name=name, created_at=now)
    await Membership.create(user=user, organization=organization, role=Role.OWNER, created_at=now)
    await api_key_create(
        organization_id=organization.id,
        name=DEFAULT_API_KEY_NAME,
        type=ApiKeyType.PUBLIC,
        expires_at=None,
        now=now,
        token_prefix=token_prefix,
        is_default=True,
    )
    return organization


async def user_sign_up(
    *,
    email: str,
    password: str,
    organization_name: str | None,
    now: datetime,
    passwords: Passwords,
    session_ttl_seconds: int,
    token_prefix: str,
) -> SignedIn:
    """Create a user, their first organization (its OWNER) with its public Default API Key,
    and a session. All or nothing: a taken email leaves no row behind."""
    email = clean_email(email)
    check_password(password)
    org_name = clean_name(organization_name or DEFAULT_ORGANIZATION_NAME, "organizationName")
    if await User.filter(email_key=email.lower()).exists():
        raise EmailTaken()
    password_hash = await passwords.hash(password)
    try:
        async with in_transaction():
            user = await User.create(
                email=email, email_key=email.lower(), password_hash=password_hash, created_at=now
            )
            await _organization_found(user=user, name=org_name, now=now, token_prefix=token_prefix)
            return await _session_start(
                user=user, now=now, ttl_seconds=session_ttl_seconds, token_prefix=token_prefix
            )
    except IntegrityError:
        raise EmailTaken() from None


async def user_sign_in(
    *,
    email: str,
    password: str,
    now: datetime,
    passwords: Passwords,
    session_ttl_seconds: int,
    token_prefix: str,
) -> SignedIn:
    """A new session for the right email and password. A wrong password and an unknown email
    fail alike, and cost the same argon2 work."""
    user = await User.get_or_none(email_key=email.strip().lower())
    ok = await passwords.verify(user.password_hash if user else None, password)
    if user is None or not ok:
        raise InvalidCredentials()
    return await _session_start(
        user=user, now=now, ttl_seconds=session_ttl_seconds, token_prefix=token_prefix
    )


async def session_end(*, session_id: uuid.UUID) -> bool:
    """End a session at once; True when it was still there."""
    return await Session.filter(id=session_id).delete() > 0


async def organization_create(
    *, user_id: uuid.UUID, name: str, now: datetime, token_prefix: str
) -> Organization:
    """A new organization owned by the user, with its public Default API Key."""
    name = clean_name(name, "name")
    user = await User.get(id=user_id)
    async with in_transaction():
        return await _organization_found(user=user, name=name, now=now, token_prefix=token_prefix)


async def user_get(*, user_id: uuid.UUID) -> User | None:
    return await User.get_or_none(id=user_id)


async def user_organizations(*, user_id: uuid.UUID) -> list[tuple[Organization, Role]]:
    """The user's organizations with their role in each, oldest membership first."""
    memberships = (
        await Membership.filter(user_id=user_id)
        .select_related("organization")
        .order_by("created_at", "id")
    )
    return [(m.organization, m.role) for m in memberships]
