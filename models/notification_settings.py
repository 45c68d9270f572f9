"""A user's notification settings: today, whether expiry notices reach them by mail.

Account-level, like a password: each user sets their own, and a change goes to their security
log (not to any organization's audit log). A user without a row has the defaults.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.access import UserPrincipal
from models.errors import InvalidInput
from models.notice_entities import NotificationSettings
from models.request_context import RequestContext
from models.security_log import SecurityAction, security_record


@dataclass(frozen=True, slots=True)
class NotificationChoices:
    expiry_notices: bool  # mail when a key of an organization they own or administer expires


DEFAULT_CHOICES = NotificationChoices(expiry_notices=True)


async def notification_settings_get(*, user_id: uuid.UUID) -> NotificationChoices:
    """The user's settings (the defaults until they change one)."""
    row = await NotificationSettings.get_or_none(user_id=user_id)
    return DEFAULT_CHOICES if row is None else NotificationChoices(row.expiry_notices)


async def notification_settings_update(
    *,
    principal: UserPrincipal,
    expiry_notices: bool | None,
    context: RequestContext,
    now: datetime,
) -> NotificationChoices:
    """Change the signed-in user's own settings; a setting left None stays as it is.
    `InvalidInput` when none is given. A real change is recorded in the user's security log;
    setting what is already set records nothing."""
    if expiry_notices is None:
        raise InvalidInput("expiryNotices", "Give at least one setting to change.")
    user_id = principal.user_id
    for _ in range(2):  # a concurrent first change of the same user: the second try updates
        try:
            async with in_transaction():
                before = await notification_settings_get(user_id=user_id)
                if before.expiry_notices == expiry_notices:
                    return before
                changed = await NotificationSettings.filter(user_id=user_id).update(
                    expiry_notices=expiry_notices, updated_at=now
                )
                if not changed:
                    await NotificationSettings.create(
                        user_id=user_id, expiry_notices=expiry_notices, updated_at=now
                    )
                await security_record(
                    user_id=user_id,
                    action=SecurityAction.NOTIFICATION_SETTINGS_CHANGED,
                    details={"expiryNotices": expiry_notices},
                    context=context,
                    now=now,
                )
                return NotificationChoices(expiry_notices)
        except IntegrityError:
            continue
    return await notification_settings_get(user_id=user_id)
