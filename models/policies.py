"""The rules an operator tunes, as frozen objects built once at start (`Settings.policies()`)
and handed whole to the operations that follow them, instead of one argument per setting."""

from __future__ import annotations

from dataclasses import dataclass, field

# How long a rolled key may keep working at most, whatever a caller asks for: a week.
MAX_GRACE_SECONDS = 604_800
# The seed's promise: a rolled key keeps working for 12 hours unless told otherwise.
DEFAULT_GRACE_SECONDS = 43_200
DEFAULT_SESSION_TTL_SECONDS = 43_200
DEFAULT_INVITATION_TTL_SECONDS = 604_800  # a week
PASSWORD_RESET_TTL_SECONDS = 3_600
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"


@dataclass(frozen=True, kw_only=True, slots=True)
class KeyPolicy:
    """How keys are issued and rolled."""

    token_prefix: str = ""
    grace_default_seconds: int = DEFAULT_GRACE_SECONDS
    grace_max_seconds: int = MAX_GRACE_SECONDS

    def __post_init__(self) -> None:
        if not 0 <= self.grace_default_seconds <= self.grace_max_seconds <= MAX_GRACE_SECONDS:
            raise ValueError("the grace default must lie between 0 and the maximum")


@dataclass(frozen=True, kw_only=True, slots=True)
class SignInLimits:
    """Brute-force limits, after ASVS: the short lock counts failures per (email, client
    address), so one attacker cannot lock a user out from elsewhere; per email across all
    addresses only at a much higher bar over a longer window; per address across emails."""

    max_failures_per_email_and_address: int = 10
    max_failures_per_address: int = 100
    window_seconds: int = 900
    max_failures_per_email: int = 100
    email_window_seconds: int = 3_600

    @property
    def longest_window_seconds(self) -> int:
        """How long an attempt counts toward some limit (the purge keeps it that long)."""
        return max(self.window_seconds, self.email_window_seconds)


@dataclass(frozen=True, kw_only=True, slots=True)
class AccountPolicy:
    """How sessions are issued, and how hard sign-in is to brute-force."""

    token_prefix: str = ""
    session_ttl_seconds: int = DEFAULT_SESSION_TTL_SECONDS
    sign_in: SignInLimits = field(default_factory=SignInLimits)
    # Organizations one user may belong to: each multiplies what `me` can ask for.
    max_organizations_per_user: int = 50
    # Sign-ups from one client address within an hour.
    sign_up_max_per_address_per_hour: int = 20


@dataclass(frozen=True, kw_only=True, slots=True)
class MailPolicy:
    """Whether mail goes out at all (SMTP_URL is set), and what links in it point to."""

    enabled: bool = False
    public_url: str = DEFAULT_PUBLIC_URL

    def link(self, fragment: str) -> str:
        """A dashboard link. Tokens ride in the fragment (`#…`), which browsers never send to a
        server, so they reach no access log or proxy."""
        return f"{self.public_url}/#{fragment}"

    def page(self, path: str) -> str:
        """A link to a dashboard page (`/orgs/<id>/keys/<keyId>`, `/account`); no token in it."""
        return f"{self.public_url}{path}"


@dataclass(frozen=True, kw_only=True, slots=True)
class TeamPolicy:
    """How invitations and password resets are issued."""

    token_prefix: str = ""
    invitation_ttl_seconds: int = DEFAULT_INVITATION_TTL_SECONDS
    reset_ttl_seconds: int = PASSWORD_RESET_TTL_SECONDS
    mail: MailPolicy = field(default_factory=MailPolicy)


# Seconds after each failed webhook attempt before the next (the Standard Webhooks schedule):
# the first attempt is immediate, the tenth and last 24 h after the ninth.
DEFAULT_WEBHOOK_RETRY_SCHEDULE = (5, 300, 1_800, 7_200, 18_000, 36_000, 50_400, 72_000, 86_400)


@dataclass(frozen=True, kw_only=True, slots=True)
class WebhookPolicy:
    """Where webhooks may go (the SSRF guard) and when failed attempts are retried."""

    allow_http: bool = False
    allow_private_networks: bool = False
    retry_schedule: tuple[int, ...] = DEFAULT_WEBHOOK_RETRY_SCHEDULE
    # One attempt (connect, send, answer) may take this long before it counts as failed.
    timeout_seconds: float = 15.0
    mail: MailPolicy = field(default_factory=MailPolicy)


@dataclass(frozen=True, kw_only=True, slots=True)
class Policies:
    keys: KeyPolicy = field(default_factory=KeyPolicy)
    accounts: AccountPolicy = field(default_factory=AccountPolicy)
    teams: TeamPolicy = field(default_factory=TeamPolicy)
    webhooks: WebhookPolicy = field(default_factory=WebhookPolicy)
