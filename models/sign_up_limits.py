"""How many accounts one client address may create: `SIGN_UP_MAX_PER_ADDRESS_PER_HOUR`, counted
in the database (`sign_up`) so every API process agrees. Each admitted sign-up leaves a row; an
address with its limit of rows in the last hour is refused with the time until the oldest ages
out. Rows are ordered by their autoincrement id, so concurrent sign-ups each count once."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from models.entities import SignUp
from models.errors import DomainError

SIGN_UP_WINDOW = timedelta(hours=1)


class TooManySignUps(DomainError):
    message = "Too many accounts were created from this address. Try again later."

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__()
        self.retry_after_seconds = retry_after_seconds


async def sign_up_admit(*, client_address: str, now: datetime, limit: int) -> None:
    """Count a sign-up from `client_address`, or raise `TooManySignUps` (counting nothing)."""
    row = await SignUp.create(client_address=client_address[:64], signed_up_at=now)
    earlier = (
        SignUp.filter(
            id__lt=row.id, client_address=row.client_address, signed_up_at__gt=now - SIGN_UP_WINDOW
        )
        .order_by("-id")
        .offset(limit - 1)
        .limit(1)
    )
    oldest = await earlier.values_list("signed_up_at", flat=True)
    if oldest:
        await SignUp.filter(id=row.id).delete()
        free_at: datetime = oldest[0] + SIGN_UP_WINDOW  # type: ignore[operator]
        raise TooManySignUps(max(1, math.ceil((free_at - now).total_seconds())))


async def sign_ups_purge(*, now: datetime) -> int:
    """Forget sign-ups older than the window; returns how many."""
    return await SignUp.filter(signed_up_at__lte=now - SIGN_UP_WINDOW).delete()
