"""Every setting is checked at start: a value keyward cannot run with stops the process with one
line naming the setting, before anything listens or connects."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from settings import Settings, SettingsError

ROOT = Path(__file__).resolve().parent.parent

BAD = {
    "EXPIRED_KEY_RETENTION_SECONDS": "-1",
    "DB_STATEMENT_TIMEOUT_MS": "-5",
    "DB_CONNECT_TIMEOUT_MS": "0",
    "DB_POOL_SIZE": "0",
    "SESSION_TTL_SECONDS": "5",
    "JOBS_INTERVAL_SECONDS": "0",
    "SIGN_IN_MAX_FAILURES_PER_EMAIL": "0",
    "SIGN_IN_MAX_FAILURES_PER_EMAIL_AND_ADDRESS": "-3",
    "SIGN_IN_EMAIL_WINDOW_SECONDS": "0",
    "SIGN_UP_MAX_PER_ADDRESS_PER_HOUR": "0",
    "MAX_ORGANIZATIONS_PER_USER": "0",
    "GRAPHQL_MAX_COST": "0",
    "PASSWORD_MEMORY_KIB": "1",
    "ROLL_GRACE_SECONDS": "-1",
    "TRUSTED_PROXY_HOPS": "11",
    "GRAPHQL_INTROSPECTION": "maybe",
}


@pytest.mark.parametrize("name", [name for name in BAD if name.strip() == name])
def test_each_bad_setting_is_named_in_one_line(name: str) -> None:
    # when
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({name: BAD[name]})
    # then
    message = str(refused.value)
    assert name in message and "\n" not in message


def test_the_defaults_are_valid() -> None:
    settings = Settings.from_env({})
    assert settings.graphql_max_cost == 10_000
    assert settings.max_organizations_per_user == 50
    assert settings.sign_up_max_per_address_per_hour == 20
    assert settings.sign_in_max_failures_per_email == 100
    assert settings.sign_in_email_window_seconds == 3_600
    assert settings.sign_in_max_failures_per_email_and_address == 10


def test_the_server_refuses_to_start_with_one_line(tmp_path: Path) -> None:
    # given a negative retention
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite://{tmp_path / 'k.sqlite3'}",
        "EXPIRED_KEY_RETENTION_SECONDS": "-1",
    }
    # when
    done = subprocess.run(
        [sys.executable, "server.py", "serve", "--port", "8000"],  # never bound: refused first
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    # then
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "EXPIRED_KEY_RETENTION_SECONDS" in lines[0], done.stderr
    assert not (tmp_path / "k.sqlite3").exists()


def test_webhook_settings_are_read_and_checked() -> None:
    settings = Settings.from_env(
        {
            "WEBHOOK_ALLOW_HTTP": "true",
            "WEBHOOK_ALLOW_PRIVATE_NETWORKS": "yes",
            "WEBHOOK_RETRY_SCHEDULE": "1, 60,3600",
            "WEBHOOK_TIMEOUT_SECONDS": "2.5",
        }
    )
    policy = settings.policies().webhooks
    assert (policy.allow_http, policy.allow_private_networks) == (True, True)
    assert policy.retry_schedule == (1, 60, 3600)
    assert policy.timeout_seconds == 2.5
    for name, value in (
        ("WEBHOOK_ALLOW_HTTP", "maybe"),
        ("WEBHOOK_RETRY_SCHEDULE", "5,soon"),
        ("WEBHOOK_RETRY_SCHEDULE", "0"),
        ("WEBHOOK_TIMEOUT_SECONDS", "60"),
    ):
        with pytest.raises(SettingsError, match=name):
            Settings.from_env({name: value})
