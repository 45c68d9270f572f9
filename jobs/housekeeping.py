"""The scheduled jobs: thin adapters from a run's environment to `models.housekeeping`, each
returning its counts by name (for the run's log line and the operator's `jobs run`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from jobs.job_env import JobEnv
from jobs.mail_delivery import deliver_mail
from jobs.webhook_delivery import deliver_webhooks
from models.audit_log import audit_events_purge
from models.expiry_notices import api_keys_notify_expiring
from models.housekeeping import (
    api_keys_expire_rolled,
    api_keys_purge_expired,
    sessions_purge_ended,
    sign_in_attempts_purge,
)
from models.leak_report_limits import leak_report_attempts_purge
from models.sign_up_limits import sign_ups_purge
from models.webhook_delivery import webhook_deliveries_purge


def _sized(env: JobEnv) -> dict[str, int]:
    return {} if env.batch_size is None else {"batch_size": env.batch_size}


async def expire_rolled(env: JobEnv) -> dict[str, int]:
    expired = await api_keys_expire_rolled(now=env.now, **_sized(env), keep_going=env.keep_going)
    return {"expired": expired}


async def purge_expired(env: JobEnv) -> dict[str, int]:
    api_keys = await api_keys_purge_expired(
        now=env.now,
        retention_seconds=env.settings.expired_key_retention_seconds,
        **_sized(env),
        keep_going=env.keep_going,
    )
    sessions = sign_in_attempts = 0
    if await env.keep_going():
        sessions = await sessions_purge_ended(now=env.now, **_sized(env), keep_going=env.keep_going)
    if await env.keep_going():
        sign_in_attempts = await sign_in_attempts_purge(
            now=env.now,
            window_seconds=env.settings.policies().accounts.sign_in.longest_window_seconds,
            **_sized(env),
            keep_going=env.keep_going,
        )
        await sign_ups_purge(now=env.now)
        await leak_report_attempts_purge(now=env.now)
    audit_events = 0
    if await env.keep_going():
        audit_events = await audit_events_purge(
            now=env.now, retention_days=env.settings.audit_retention_days
        )
    webhook_deliveries = 0
    if await env.keep_going():
        webhook_deliveries = await webhook_deliveries_purge(now=env.now)
    return {
        "api_keys": api_keys,
        "sessions": sessions,
        "sign_in_attempts": sign_in_attempts,
        "audit_events": audit_events,
        "webhook_deliveries": webhook_deliveries,
    }


async def notify_expiring(env: JobEnv) -> dict[str, int]:
    sent = await api_keys_notify_expiring(
        now=env.now,
        mail=env.settings.policies().teams.mail,
        **_sized(env),
        keep_going=env.keep_going,
    )
    return {"notices": sent}


JOBS: dict[str, Callable[[JobEnv], Awaitable[dict[str, int]]]] = {
    "expire-rolled": expire_rolled,
    "purge-expired": purge_expired,
    "notify-expiring": notify_expiring,
    "deliver-mail": deliver_mail,
    "deliver-webhooks": deliver_webhooks,
}
