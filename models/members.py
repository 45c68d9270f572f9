"""An organization's members: list them, change a role, remove one, leave.

Every operation takes an `OrganizationAccess` from `models.access`. An organization always keeps
at least one OWNER, and that rule holds under concurrency: the statement that demotes or removes
an OWNER counts the owners itself (one conditional UPDATE / DELETE), after taking a lock on the
organization's row (PostgreSQL; SQLite runs one writer at a time anyway). Two owners demoting
each other at once: exactly one succeeds, the other gets `LastOwner`.

Access is decided per request from the membership rows, so a removal or a lowered role holds on
the very next request of that person, in every process: there is no cache to wait for.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models.access import OrganizationAccess, Permission, user_of
from models.audit import Actor, Target, actor_of, audit_record
from models.clock import utcnow
from models.entities import Membership, Role
from models.errors import LastOwner, MemberNotFound
from models.pagination import Page, PageRequest, Position, paginate
from models.request_context import NO_REQUEST, RequestContext
from models.sql import is_sqlite, numbered

# The target is no OWNER, or the organization keeps another one. Counted in the statement
# itself, so no other transaction's change can slip between the count and the write.
_KEEPS_AN_OWNER = (
    "(role <> 'OWNER' OR (SELECT COUNT(*) FROM membership AS m"
    " WHERE m.organization_id = ? AND m.role = 'OWNER') > 1)"
)


async def member_list(*, access: OrganizationAccess, page: PageRequest) -> Page[Membership]:
    """One page of the members (with `user` loaded), earliest to join first, at positions
    (joined at, membership id) (see `models.pagination`)."""
    access.demand(Permission.LIST_MEMBERS)
    scope = Membership.filter(organization_id=access.organization.id)

    async def fetch(
        after: Position | None, before: Position | None, reverse: bool, limit: int
    ) -> list[Membership]:
        query = scope
        if after is not None:
            moment = after[0].astimezone(UTC)
            query = query.filter(Q(created_at__gt=moment) | Q(created_at=moment, id__gt=after[1]))
        if before is not None:
            moment = before[0].astimezone(UTC)
            query = query.filter(Q(created_at__lt=moment) | Q(created_at=moment, id__lt=before[1]))
        sign = "-" if reverse else ""
        return list(
            await query.select_related("user")
            .order_by(f"{sign}created_at", f"{sign}id")
            .limit(limit)
        )

    return await paginate(page, fetch, lambda m: (m.created_at, m.id), await scope.count())


def _demand_for(access: OrganizationAccess, *roles: Role) -> None:
    """MANAGE_MEMBERS, and MANAGE_OWNERS too when an OWNER is involved."""
    access.demand(Permission.MANAGE_MEMBERS)
    if Role.OWNER in roles:
        access.demand(Permission.MANAGE_OWNERS)


async def _guarded(
    sql: str,
    organization_id: uuid.UUID,
    params: list[object],
    then: Callable[[], Awaitable[object]] | None = None,
) -> int:
    """Run a write on the membership table whose WHERE holds `_KEEPS_AN_OWNER`; the row count.

    On PostgreSQL the organization's row is locked first, in the same transaction: without it
    two statements demoting two different owners would each count two owners (write skew)."""
    async with in_transaction() as connection:
        if not is_sqlite(connection):
            await connection.execute_query(
                "SELECT id FROM organization WHERE id = $1 FOR UPDATE", [str(organization_id)]
            )
            sql = numbered(sql)
        count, _ = await connection.execute_query(sql, params)
        if count and then is not None:  # the change's audit event, in its transaction
            await then()
        return int(count)


async def _membership(organization_id: uuid.UUID, user_id: uuid.UUID) -> Membership:
    membership = await Membership.get_or_none(
        organization_id=organization_id, user_id=user_id
    ).select_related("user")
    if membership is None:
        raise MemberNotFound()
    return membership


def _event(
    access: OrganizationAccess,
    action: str,
    member: Membership,
    actor: Actor,
    context: RequestContext,
    **details: object,
) -> Callable[[], Awaitable[object]]:
    def record() -> Awaitable[object]:
        return audit_record(
            organization_id=access.organization.id,
            action=action,
            actor=actor,
            target=Target("member", str(member.user_id), member.user.email),
            details={"role": member.role.value, **details} or None,
            context=context,
            now=utcnow(),
        )

    return record


async def member_change_role(
    *,
    access: OrganizationAccess,
    user_id: uuid.UUID,
    role: Role,
    context: RequestContext = NO_REQUEST,
) -> Membership:
    """Give a member another role. An ADMIN moves people between MEMBER and ADMIN only; making
    or unmaking an OWNER takes an OWNER. `LastOwner` when it would leave no OWNER."""
    organization_id = access.organization.id
    current = await _membership(organization_id, user_id)
    _demand_for(access, current.role, role)
    if current.role is role:
        return current
    # An ADMIN's change must not land on someone made OWNER in the meantime.
    owner_ok = Permission.MANAGE_OWNERS in access.permissions
    demoting = role is not Role.OWNER
    count = await _guarded(
        "UPDATE membership SET role = ? WHERE id = ?"
        + ("" if owner_ok else " AND role <> 'OWNER'")
        + (f" AND {_KEEPS_AN_OWNER}" if demoting else ""),
        organization_id,
        [role.value, str(current.id), *([str(organization_id)] if demoting else [])],
        _event(
            access, "member.role_changed", current, await actor_of(access.principal), context,
            **{"from": current.role.value, "to": role.value},
        ),
    )  # fmt: skip
    if count == 0:
        await _why_not(organization_id, user_id, access)
    current.role = role
    return current


async def _why_not(
    organization_id: uuid.UUID, user_id: uuid.UUID, access: OrganizationAccess
) -> None:
    """Explain a guarded write that touched no row: the member left, became an OWNER this
    access may not touch, or is the last OWNER."""
    now_there = await _membership(organization_id, user_id)
    _demand_for(access, now_there.role)
    raise LastOwner()


async def member_remove(
    *, access: OrganizationAccess, user_id: uuid.UUID, context: RequestContext = NO_REQUEST
) -> None:
    """Remove a member (their very next request no longer sees the organization)."""
    organization_id = access.organization.id
    current = await _membership(organization_id, user_id)
    _demand_for(access, current.role)
    owner_ok = Permission.MANAGE_OWNERS in access.permissions
    count = await _guarded(
        "DELETE FROM membership WHERE id = ?"
        + ("" if owner_ok else " AND role <> 'OWNER'")
        + f" AND {_KEEPS_AN_OWNER}",
        organization_id,
        [str(current.id), str(organization_id)],
        _event(access, "member.removed", current, await actor_of(access.principal), context),
    )
    if count == 0:
        await _why_not(organization_id, user_id, access)


async def organization_leave(
    *, access: OrganizationAccess, context: RequestContext = NO_REQUEST
) -> uuid.UUID:
    """The signed-in user leaves the organization; its last OWNER may not."""
    user = user_of(access.principal)
    organization_id = access.organization.id
    current = await _membership(organization_id, user.user_id)
    count = await _guarded(
        f"DELETE FROM membership WHERE id = ? AND {_KEEPS_AN_OWNER}",
        organization_id,
        [str(current.id), str(organization_id)],
        _event(access, "member.left", current, await actor_of(access.principal), context),
    )
    if count == 0:
        await _membership(organization_id, user.user_id)
        raise LastOwner()
    return organization_id
