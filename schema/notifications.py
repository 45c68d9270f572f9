"""The signed-in user's notification settings, as `me { notificationSettings }` shows them."""

from __future__ import annotations

import strawberry

from models.notification_settings import NotificationChoices


@strawberry.type(description="Which notices reach you by mail.")
class NotificationSettings:
    expiry_notices: bool = strawberry.field(
        description="Mail 30 days, 7 days and 1 day before a key of an organization you own or "
        "administer stops working, and 1 hour before a rolled key's grace ends. On by default."
    )

    @classmethod
    def from_choices(cls, choices: NotificationChoices) -> NotificationSettings:
        return cls(expiry_notices=choices.expiry_notices)
