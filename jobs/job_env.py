"""What every scheduled job receives from the runner."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from models.housekeeping import KeepGoing
from settings import Settings


@dataclass(frozen=True)
class JobEnv:
    """What a job needs besides the database: the instant it runs at and when to stop."""

    settings: Settings
    now: datetime
    keep_going: KeepGoing
    batch_size: int | None  # None: each domain function's own tuned default
