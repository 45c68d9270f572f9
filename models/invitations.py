"""Invitations: an OWNER or ADMIN invites an email with a role; the person with that email
accepts with the invitation's token and becomes a member.

The token (`inv_…`) exists only in the inviting response and in the mail; the database keeps
its digest. An invitation's status is decided from its timestamps at `now`. Inviting an email
again while an invitation is pending replaces it (the old token stops working). With mail on,
the mail is queued in the outbox in the same transaction as the invitation.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models import tokens
from models.access import OrganizationAccess, Permission, UserPrincipal
from models.accounts import clean_email, email_key
from models.audit import Actor, ActorType, Target, actor_of, audit_record
from models.entities import Invitation, Membership, Organization, Role, User
from models.errors import AlreadyMember, InvitationNotFound
from models.mail import MAIL_KIND, invitation_mail
from models.outbox import outbox_add
from models.policies import TeamPolicy
from models.request_context import NO_REQUEST, RequestContext

MAX_LISTED_INVITATIONS = 200


class InvitationStatus(StrEnum):
    PENDING = "PENDING"
    ACCEPTED = "ACCEPTED"
    REVOKED = "REVOKED"
    EXPIRED = "EXPIRED"


def invitation_status(invitation: Invitation, now: datetime) -> InvitationStatus:
    if invitation.accepted_at is not None:
        return InvitationStatus.ACCEPTED
    if invitation.revoked_at is not None:
        return InvitationStatus.REVOKED
    if invitation.expires_at <= now:
        return InvitationStatus.EXPIRED
    return InvitationStatus.PENDING


@dataclass(frozen=True)
class Invited:
    invitation: Invitation
    token: str
    link: str
    mailed: bool


def _pending(now: datetime) -> Q:
    return Q(accepted_at=None, revoked_at=None, expires_at__gt=now)


async def invitation_create(
    *,
    access: OrganizationAccess,
    email: str,
    role: Role,
    now: datetime,
    policy: TeamPolicy,
    context: RequestContext = NO_REQUEST,
) -> Invited:
    """Invite `email` as `role`: MANAGE_MEMBERS, and MANAGE_OWNERS to invite an OWNER.
    `AlreadyMember` when that email's account is a member already."""
    access.demand(Permission.MANAGE_MEMBERS)
    if role is Role.OWNER:
        access.demand(Permission.MANAGE_OWNERS)
    email = clean_email(email)
    key = email_key(email)
    organization = access.organization
    if await Membership.exists(organization_id=organization.id, user__email_key=key):
        raise AlreadyMember()
    inviter_id = getattr(access.principal, "user_id", None)
    inviter = None if inviter_id is None else await User.get_or_none(id=inviter_id)
    token = tokens.generate(tokens.TokenKind.INVITATION, policy.token_prefix)
    link = policy.mail.link(f"invitation={token}")
    expires_at = now + timedelta(seconds=policy.invitation_ttl_seconds)
    async with in_transaction():
        await Invitation.filter(
            _pending(now), organization_id=organization.id, email_key=key
        ).delete()
        invitation = await Invitation.create(
            organization_id=organization.id,
            email=email,
            email_key=key,
            role=role,
            digest=tokens.digest(token),
            invited_by=inviter,
            created_at=now,
            expires_at=expires_at,
        )
        if policy.mail.enabled:
            mail = invitation_mail(
                to=email,
                organization_name=organization.name,
                role=role.value,
                inviter_email=None if inviter is None else inviter.email,
                link=link,
                expires_at=expires_at,
            )
            await outbox_add(kind=MAIL_KIND, payload=mail.payload(), now=now)
        await audit_record(
            organization_id=organization.id,
            action="member.invited",
            actor=await actor_of(access.principal),
            target=Target("invitation", str(invitation.id), email),
            details={"role": role.value, "expiresAt": expires_at.isoformat()},
            context=context,
            now=now,
        )
    return Invited(invitation=invitation, token=token, link=link, mailed=policy.mail.enabled)


async def invitation_list(
    *, access: OrganizationAccess, status: InvitationStatus | None, now: datetime
) -> list[Invitation]:
    """The organization's invitations with `status` (all with None), newest first."""
    access.demand(Permission.LIST_MEMBERS)
    scope = Invitation.filter(organization_id=access.organization.id)
    if status is InvitationStatus.PENDING:
        scope = scope.filter(_pending(now))
    elif status is InvitationStatus.ACCEPTED:
        scope = scope.filter(accepted_at__not_isnull=True)
    elif status is InvitationStatus.REVOKED:
        scope = scope.filter(accepted_at=None, revoked_at__not_isnull=True)
    elif status is InvitationStatus.EXPIRED:
        scope = scope.filter(accepted_at=None, revoked_at=None, expires_at__lte=now)
    return (
        await scope.select_related("invited_by")
        .order_by("-created_at", "-id")
        .limit(MAX_LISTED_INVITATIONS)
    )


async def invitation_revoke(
    *,
    access: OrganizationAccess,
    invitation_id: uuid.UUID,
    now: datetime,
    context: RequestContext = NO_REQUEST,
) -> Invitation:
    """Revoke a pending invitation: its token stops working at once."""
    access.demand(Permission.MANAGE_MEMBERS)
    scope = Invitation.filter(id=invitation_id, organization_id=access.organization.id)
    actor = await actor_of(access.principal)
    async with in_transaction():
        if not await scope.filter(_pending(now)).update(revoked_at=now):
            raise InvitationNotFound()
        revoked = await scope.first()
        await audit_record(
            organization_id=access.organization.id,
            action="invitation.revoked",
            actor=actor,
            target=Target(
                "invitation", str(invitation_id), None if revoked is None else revoked.email
            ),
            details=None,
            context=context,
            now=now,
        )
    invitation = await scope.select_related("invited_by").first()
    if invitation is None:
        raise InvitationNotFound()
    return invitation


async def invitation_accept(
    *, principal: UserPrincipal, token: str, now: datetime, context: RequestContext = NO_REQUEST
) -> tuple[Organization, Role]:
    """Join the organization the token invites to. Only the invited email's account may: to
    anyone else, as to a used, revoked, expired or made-up token, it is `InvitationNotFound`."""
    if tokens.parse(token) is not tokens.TokenKind.INVITATION:
        raise InvitationNotFound()
    invitation = await Invitation.get_or_none(_pending(now), digest=tokens.digest(token))
    user = await User.get_or_none(id=principal.user_id)
    if invitation is None or user is None or user.email_key != invitation.email_key:
        raise InvitationNotFound()
    try:
        async with in_transaction():
            claimed = await Invitation.filter(_pending(now), id=invitation.id).update(
                accepted_at=now
            )
            if not claimed:
                raise InvitationNotFound()
            await Membership.create(
                user_id=user.id,
                organization_id=invitation.organization_id,
                role=invitation.role,
                created_at=now,
            )
            await audit_record(
                organization_id=invitation.organization_id,
                action="member.joined",
                actor=Actor(ActorType.USER, str(user.id), user.email),
                target=Target("member", str(user.id), user.email),
                details={"role": invitation.role.value, "invitationId": str(invitation.id)},
                context=context,
                now=now,
            )
    except IntegrityError:  # a member already (joined by another invitation meanwhile)
        raise InvitationNotFound() from None
    organization = await Organization.get(id=invitation.organization_id)
    return organization, invitation.role
