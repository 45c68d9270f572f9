"""Keyward's settings: read once from the environment into one frozen object.

Only `server.main()` calls `Settings.from_env()`; everything else receives a `Settings`.
The database URL may carry a password, so it never shows in a repr or a log line.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from models import tokens
from models.key_cache import DEFAULT_MAX_AGE_SECONDS, DEFAULT_NEGATIVE_SECONDS, DEFAULT_SIZE
from models.policies import (
    DEFAULT_GRACE_SECONDS,
    DEFAULT_INVITATION_TTL_SECONDS,
    DEFAULT_PUBLIC_URL,
    DEFAULT_SESSION_TTL_SECONDS,
    DEFAULT_WEBHOOK_RETRY_SCHEDULE,
    MAX_GRACE_SECONDS,
    AccountPolicy,
    KeyPolicy,
    MailPolicy,
    Policies,
    SignInLimits,
    TeamPolicy,
    WebhookPolicy,
)

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")
_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?")  # never "*", no path
_PUBLIC_URL = re.compile(r"https?://[A-Za-z0-9.\[\]:-]+(?:/[A-Za-z0-9._~/-]*)?")
_MAIL_FROM = re.compile(r"(?:[^<>\r\n]*<)?[^@\s<>]+@[^@\s<>]+(?:>)?")
# An invitation lives between an hour and 30 days.
INVITATION_TTL_RANGE = (3_600, 2_592_000)


class SettingsError(ValueError):
    """An environment variable holds a value keyward cannot run with."""


def redact_url(url: str) -> str:
    """The URL with any password replaced by `***`, fit for logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


# Every whole-number setting with the range keyward can run with: checked at start, so a
# mistyped value stops the process with one line naming the setting, not a failure hours later.
_DAY = 86_400
_BOUNDS: tuple[tuple[str, int, int], ...] = (
    ("session_ttl_seconds", 60, 365 * _DAY),
    ("jobs_interval_seconds", 1, _DAY),
    ("expired_key_retention_seconds", 0, 3_650 * _DAY),
    ("db_pool_size", 1, 1_000),
    ("db_statement_timeout_ms", 0, 3_600_000),
    ("db_connect_timeout_ms", 100, 60_000),
    ("sign_in_max_failures_per_email_and_address", 1, 1_000_000),
    ("sign_in_max_failures_per_address", 1, 1_000_000),
    ("sign_in_window_seconds", 1, _DAY),
    ("sign_in_max_failures_per_email", 1, 1_000_000),
    ("sign_in_email_window_seconds", 1, _DAY),
    ("sign_up_max_per_address_per_hour", 1, 1_000_000),
    ("max_organizations_per_user", 1, 100_000),
    ("graphql_max_cost", 1, 10_000_000),
    ("password_time_cost", 1, 100),
    ("password_memory_kib", 8, 4_194_304),
    ("audit_retention_days", 1, 3_650),
    ("leak_reports_per_hour", 1, 1_000_000),
    ("key_cache_size", 0, 10_000_000),  # entries per process; 0 turns the cache off
)
GITHUB_SECRET_SCANNING_KEYS_URL = "https://api.github.com/meta/public_keys/secret_scanning"


@dataclass(frozen=True, kw_only=True)
class Settings:
    database_url: str = field(default="sqlite://keyward.sqlite3", repr=False)
    roll_grace_seconds: int = DEFAULT_GRACE_SECONDS
    session_ttl_seconds: int = DEFAULT_SESSION_TTL_SECONDS
    token_prefix: str = ""
    cors_origins: tuple[str, ...] = ()
    jobs_interval_seconds: int = 60
    expired_key_retention_seconds: int = 0
    graphql_introspection: bool = True
    # Sign-in brute-force limits: failures per (email, client address) and per address within
    # SIGN_IN_WINDOW_SECONDS; per email across addresses within SIGN_IN_EMAIL_WINDOW_SECONDS.
    sign_in_max_failures_per_email_and_address: int = 10
    sign_in_max_failures_per_address: int = 100
    sign_in_window_seconds: int = 900
    sign_in_max_failures_per_email: int = 100
    sign_in_email_window_seconds: int = 3_600
    # Reverse proxies in front that append to X-Forwarded-For: 0 trusts no such header.
    trusted_proxy_hops: int = 0
    db_pool_size: int = 10
    db_statement_timeout_ms: int = 5_000
    # How long opening a PostgreSQL connection may take before the request gets its 503.
    db_connect_timeout_ms: int = 2_000
    sign_up_max_per_address_per_hour: int = 20
    max_organizations_per_user: int = 50
    # The most nodes one GraphQL document may ask for (see schema/cost.py).
    graphql_max_cost: int = 10_000
    # argon2id cost: the library defaults (~100 ms, 64 MiB) unless a test lowers them.
    password_time_cost: int = 3
    password_memory_kib: int = 65_536
    # How long audit events, security events, tombstones and usage counts are kept.
    audit_retention_days: int = 365
    # How often each API process writes its verification counts (a crash loses at most these).
    usage_flush_seconds: float = 5
    # Observability: /metrics on the API port for this bearer token, and/or on a port of its own.
    metrics_token: str = field(default="", repr=False)
    metrics_port: int | None = None
    metrics_host: str = "127.0.0.1"
    log_format: str = "text"
    # Mail (invitations, password resets): nothing is mailed while smtp_url is empty. The URL
    # may carry a password: never shown in a repr or a log.
    smtp_url: str = field(default="", repr=False)
    mail_from: str = "keyward <keyward@localhost>"
    public_url: str = DEFAULT_PUBLIC_URL
    invitation_ttl_seconds: int = DEFAULT_INVITATION_TTL_SECONDS
    # Leak response (web/secret_scanning.py): where GitHub's signing keys come from (the file,
    # when set, instead of the URL: for air-gapped installs and tests), and how many
    # POST /v1/keys/report-leak calls one client address may make in an hour.
    github_secret_scanning_keys_url: str = GITHUB_SECRET_SCANNING_KEYS_URL
    github_secret_scanning_keys_file: str = ""
    leak_reports_per_hour: int = 60
    # Webhooks: http:// URLs, private/loopback addresses, and the retry delays in seconds.
    webhook_allow_http: bool = False
    webhook_allow_private_networks: bool = False
    webhook_retry_schedule: tuple[int, ...] = DEFAULT_WEBHOOK_RETRY_SCHEDULE
    webhook_timeout_seconds: float = 15.0
    # The verification cache (models.key_cache): entries per process, 0 turns it off.
    key_cache_size: int = DEFAULT_SIZE
    key_cache_negative_seconds: float = DEFAULT_NEGATIVE_SECONDS
    key_cache_max_age_seconds: float = DEFAULT_MAX_AGE_SECONDS

    def __post_init__(self) -> None:
        if self.token_prefix and not tokens.valid_prefix(self.token_prefix):
            raise SettingsError("TOKEN_PREFIX must be 1 to 16 lowercase letters or digits")
        if not 0 <= self.roll_grace_seconds <= MAX_GRACE_SECONDS:
            raise SettingsError(f"ROLL_GRACE_SECONDS must lie between 0 and {MAX_GRACE_SECONDS}")
        for name, low, high in _BOUNDS:
            value = getattr(self, name)
            if not low <= value <= high:
                raise SettingsError(
                    f"{name.upper()} must lie between {low} and {high}, not {value}"
                )
        if not 0.05 <= self.usage_flush_seconds <= 3600:
            raise SettingsError("USAGE_FLUSH_SECONDS must lie between 0.05 and 3600")
        if not 0 <= self.key_cache_negative_seconds <= self.key_cache_max_age_seconds:
            raise SettingsError(
                "KEY_CACHE_NEGATIVE_SECONDS must lie between 0 and KEY_CACHE_MAX_AGE_SECONDS"
            )
        if not 0 < self.key_cache_max_age_seconds <= 3600:
            raise SettingsError("KEY_CACHE_MAX_AGE_SECONDS must lie between 0 and 3600")
        if not 0 <= self.trusted_proxy_hops <= 10:
            raise SettingsError("TRUSTED_PROXY_HOPS must lie between 0 and 10")
        for origin in self.cors_origins:
            if not _ORIGIN.fullmatch(origin):
                raise SettingsError(
                    f"CORS_ORIGINS takes exact origins (https://app.example.com), not {origin!r}"
                )
        if not self.github_secret_scanning_keys_url.startswith(("https://", "http://")):
            raise SettingsError("GITHUB_SECRET_SCANNING_KEYS_URL must be an http(s) URL")
        if not self.database_url.startswith(("sqlite://", "postgres://", "postgresql://")):
            raise SettingsError("DATABASE_URL must start with sqlite:// or postgres://")
        if self.metrics_port is not None and not 0 < self.metrics_port < 65536:
            raise SettingsError("METRICS_PORT must lie between 1 and 65535")
        if self.metrics_token and len(self.metrics_token) < 16:
            raise SettingsError("METRICS_TOKEN must be at least 16 characters")
        if self.log_format not in ("text", "json"):
            raise SettingsError("LOG_FORMAT must be text or json")
        self._check_mail()
        if not 1 <= len(self.webhook_retry_schedule) <= 50 or not all(
            1 <= delay <= 7 * _DAY for delay in self.webhook_retry_schedule
        ):
            raise SettingsError(
                "WEBHOOK_RETRY_SCHEDULE must be 1 to 50 comma-separated delays in seconds, "
                "each between 1 and 604800"
            )
        # (at most 15: one endpoint's deliveries in a batch must end inside their claim)
        if not 0.05 <= self.webhook_timeout_seconds <= 15:
            raise SettingsError("WEBHOOK_TIMEOUT_SECONDS must lie between 0.05 and 15")

    def _check_mail(self) -> None:
        if self.smtp_url:
            parts = urlsplit(self.smtp_url)
            try:
                parts.port  # noqa: B018 (raises on a bad port)
            except ValueError:
                raise SettingsError("SMTP_URL has a bad port") from None
            if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
                raise SettingsError(
                    "SMTP_URL must look like smtp://user:pass@host:587 or smtps://host:465"
                )
        if not _MAIL_FROM.fullmatch(self.mail_from.strip()):
            raise SettingsError("MAIL_FROM must be an address, such as keyward <no-reply@x.org>")
        if not _PUBLIC_URL.fullmatch(self.public_url) or self.public_url.endswith("/"):
            raise SettingsError(
                "PUBLIC_URL must be the dashboard's http(s) address, without a trailing slash"
            )
        low, high = INVITATION_TTL_RANGE
        if not low <= self.invitation_ttl_seconds <= high:
            raise SettingsError(f"INVITATION_TTL_SECONDS must lie between {low} and {high}")

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{name}={getattr(self, name)!r}"
            for name in self.__dataclass_fields__
            if name not in ("database_url", "metrics_token")
            if name not in ("database_url", "smtp_url")
        )
        return (
            f"Settings(database_url={redact_url(self.database_url)!r}, "
            f"smtp_url={redact_url(self.smtp_url)!r}, {shown})"
        )

    def policies(self) -> Policies:
        """The domain's policies, built once at start and handed over whole."""
        return Policies(
            keys=KeyPolicy(
                token_prefix=self.token_prefix, grace_default_seconds=self.roll_grace_seconds
            ),
            accounts=AccountPolicy(
                token_prefix=self.token_prefix,
                session_ttl_seconds=self.session_ttl_seconds,
                sign_in=SignInLimits(
                    max_failures_per_email_and_address=(
                        self.sign_in_max_failures_per_email_and_address
                    ),
                    max_failures_per_address=self.sign_in_max_failures_per_address,
                    window_seconds=self.sign_in_window_seconds,
                    max_failures_per_email=self.sign_in_max_failures_per_email,
                    email_window_seconds=self.sign_in_email_window_seconds,
                ),
                max_organizations_per_user=self.max_organizations_per_user,
                sign_up_max_per_address_per_hour=self.sign_up_max_per_address_per_hour,
            ),
            teams=TeamPolicy(
                token_prefix=self.token_prefix,
                invitation_ttl_seconds=self.invitation_ttl_seconds,
                mail=MailPolicy(enabled=bool(self.smtp_url), public_url=self.public_url),
            ),
            webhooks=WebhookPolicy(
                allow_http=self.webhook_allow_http,
                allow_private_networks=self.webhook_allow_private_networks,
                retry_schedule=self.webhook_retry_schedule,
                timeout_seconds=self.webhook_timeout_seconds,
                mail=MailPolicy(enabled=bool(self.smtp_url), public_url=self.public_url),
            ),
        )

    @property
    def metrics_enabled(self) -> bool:
        return bool(self.metrics_token) or self.metrics_port is not None

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite://")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        for name, kind in (
            ("roll_grace_seconds", int),
            ("session_ttl_seconds", int),
            ("jobs_interval_seconds", int),
            ("expired_key_retention_seconds", int),
            ("db_pool_size", int),
            ("db_statement_timeout_ms", int),
            ("password_time_cost", int),
            ("password_memory_kib", int),
            ("sign_in_max_failures_per_email", int),
            ("sign_in_max_failures_per_email_and_address", int),
            ("sign_in_max_failures_per_address", int),
            ("sign_in_window_seconds", int),
            ("sign_in_email_window_seconds", int),
            ("sign_up_max_per_address_per_hour", int),
            ("max_organizations_per_user", int),
            ("graphql_max_cost", int),
            ("db_connect_timeout_ms", int),
            ("leak_reports_per_hour", int),
            ("trusted_proxy_hops", int),
            ("audit_retention_days", int),
            ("usage_flush_seconds", float),
            ("webhook_timeout_seconds", float),
            ("metrics_port", int),
            ("invitation_ttl_seconds", int),
            ("key_cache_size", int),
        ):
            raw = env.get(name.upper())
            if raw is not None:
                try:
                    values[name] = kind(raw)
                except ValueError:
                    raise SettingsError(f"{name.upper()} must be a whole number") from None
        for name in ("key_cache_negative_seconds", "key_cache_max_age_seconds"):
            raw = env.get(name.upper())
            if raw is not None:
                try:
                    values[name] = float(raw)
                except ValueError:
                    raise SettingsError(f"{name.upper()} must be a number of seconds") from None
        if "DATABASE_URL" in env:
            values["database_url"] = env["DATABASE_URL"]
        for name in ("metrics_token", "metrics_host", "log_format"):
            if env.get(name.upper()):
                values[name] = env[name.upper()]
        if "TOKEN_PREFIX" in env:
            values["token_prefix"] = env["TOKEN_PREFIX"]
        for name in ("github_secret_scanning_keys_url", "github_secret_scanning_keys_file"):
            if env.get(name.upper(), "").strip():
                values[name] = env[name.upper()].strip()
        for name in ("smtp_url", "mail_from", "public_url"):
            if name.upper() in env:
                values[name] = env[name.upper()].strip()
        if "CORS_ORIGINS" in env:
            origins = (origin.strip() for origin in env["CORS_ORIGINS"].split(","))
            values["cors_origins"] = tuple(origin for origin in origins if origin)
        if "GRAPHQL_INTROSPECTION" in env:
            flag = env["GRAPHQL_INTROSPECTION"].strip().lower()
            if flag not in _TRUE + _FALSE:
                raise SettingsError("GRAPHQL_INTROSPECTION must be true or false")
            values["graphql_introspection"] = flag in _TRUE
        for name in ("webhook_allow_http", "webhook_allow_private_networks"):
            if name.upper() in env:
                flag = env[name.upper()].strip().lower()
                if flag not in _TRUE + _FALSE:
                    raise SettingsError(f"{name.upper()} must be true or false")
                values[name] = flag in _TRUE
        if "WEBHOOK_RETRY_SCHEDULE" in env:
            try:
                values["webhook_retry_schedule"] = tuple(
                    int(part) for part in env["WEBHOOK_RETRY_SCHEDULE"].split(",")
                )
            except ValueError:
                raise SettingsError(
                    "WEBHOOK_RETRY_SCHEDULE must be comma-separated whole numbers of seconds"
                ) from None
        return cls(**values)  # type: ignore[arg-type]
