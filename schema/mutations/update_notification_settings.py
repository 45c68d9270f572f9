"""updateNotificationSettings: the signed-in user turns their own notice mails on or off."""

from __future__ import annotations

from typing import Annotated

import strawberry

from models import errors
from models.notification_settings import notification_settings_update
from schema.context import Info
from schema.errors import InvalidInput, invalid_input
from schema.notifications import NotificationSettings


@strawberry.input(description="The settings to change; a setting left out stays as it is.")
class UpdateNotificationSettingsInput:
    expiry_notices: bool | None = strawberry.field(
        default=None, description="Whether expiry notices reach you by mail."
    )


@strawberry.type(description="Your notification settings are changed.")
class NotificationSettingsUpdated:
    notification_settings: NotificationSettings = strawberry.field(description="Your settings now.")


UpdateNotificationSettingsResult = Annotated[
    NotificationSettingsUpdated | InvalidInput,
    strawberry.union(
        "UpdateNotificationSettingsResult", description="What updateNotificationSettings did."
    ),
]


async def update_notification_settings(
    info: Info,
    input: Annotated[
        UpdateNotificationSettingsInput,
        strawberry.argument(description="The settings to change."),
    ],
) -> UpdateNotificationSettingsResult:
    context = info.context
    try:
        choices = await notification_settings_update(
            principal=context.require_user(),
            expiry_notices=input.expiry_notices,
            context=context.request,
            now=context.now,
        )
    except errors.InvalidInput as error:
        return invalid_input(error)
    return NotificationSettingsUpdated(
        notification_settings=NotificationSettings.from_choices(choices)
    )
