"""Changing a key in place: its name and its restrictions (`models.restrictions`).

The change is one conditional UPDATE, so the key's very next verification, in any process,
reads the new restrictions from its row (the lookup is never older than the request). Its token,
status and dates are untouched.
"""

from __future__ import annotations

from datetime import datetime

from models.access import KeyAccess, Permission
from models.api_keys import clean_name
from models.audit import actor_of, audit_record, key_target
from models.clock import utcnow
from models.entities import ApiKey
from models.errors import ApiKeyNotFound, InvalidInput, Problems
from models.key_changes import key_changed, key_changes
from models.request_context import NO_REQUEST, RequestContext
from models.restrictions import RestrictionMode, clean_cidrs, clean_origins


async def api_key_update(
    *,
    access: KeyAccess,
    name: str | None = None,
    allowed_cidrs: list[str] | None = None,
    allowed_origins: list[str] | None = None,
    restriction_mode: RestrictionMode | None = None,
    now: datetime | None = None,
    context: RequestContext = NO_REQUEST,
) -> ApiKey:
    """Set what is given (None leaves a field as it is; an empty list lifts a restriction).
    Every bad field and entry is reported at once; a key deleted meanwhile is `ApiKeyNotFound`.
    Recorded as one `api_key.updated` event whose details name each changed field (from, to)."""
    access.demand(Permission.MANAGE_KEYS)
    problems = Problems()
    changes: dict[str, object] = {}
    try:
        if name is not None:
            changes["name"] = clean_name(name, "name")
    except InvalidInput as error:
        problems.catch(error)
    try:
        if allowed_cidrs is not None:
            changes["allowed_cidrs"] = clean_cidrs(allowed_cidrs) or None
    except InvalidInput as error:
        problems.catch(error)
    try:
        if allowed_origins is not None:
            changes["allowed_origins"] = clean_origins(allowed_origins) or None
    except InvalidInput as error:
        problems.catch(error)
    problems.check()
    if restriction_mode is not None:
        changes["restriction_mode"] = restriction_mode
    organization_id, key = access.organization.organization.id, access.key
    details: dict[str, object] = {"start": key.start}
    for field, value in changes.items():
        before = getattr(key, field)
        if before != value:
            details[_API_NAMES[field]] = {"from": _shown(before), "to": _shown(value)}
    actor = await actor_of(access.organization.principal)
    async with key_changes():
        updated = (
            await ApiKey.filter(id=key.id, organization_id=organization_id).update(**changes)
            if changes
            else await ApiKey.filter(id=key.id, organization_id=organization_id).count()
        )
        if updated == 0:
            raise ApiKeyNotFound()
        if changes:
            await key_changed(key_ids=[key.id])  # verification answers with name, restrictions
        for field, value in changes.items():
            setattr(key, field, value)
        await audit_record(
            organization_id=organization_id,
            action="api_key.updated",
            actor=actor,
            target=key_target(key.id, key.name),
            details=details,
            context=context,
            now=now or utcnow(),
        )
    return key


async def api_key_rename(
    *,
    access: KeyAccess,
    name: str,
    now: datetime | None = None,
    context: RequestContext = NO_REQUEST,
) -> ApiKey:
    """Give a key a new name (1 to MAX_NAME_LENGTH characters, trimmed): `api_key_update` with
    only a name. Recorded as `api_key.updated` (from, to)."""
    return await api_key_update(access=access, name=name, now=now, context=context)


_API_NAMES = {
    "name": "name",
    "allowed_cidrs": "allowedCidrs",
    "allowed_origins": "allowedOrigins",
    "restriction_mode": "restrictionMode",
}


def _shown(value: object) -> object:
    if value is None:
        return []  # an unrestricted list
    if isinstance(value, RestrictionMode):
        return value.value
    return value
