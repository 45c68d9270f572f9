"""The GraphQL object types. Each maps a domain row; none queries the database itself except
through a domain function or the request's DataLoader."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

import strawberry

from models import entities
from models.access import (
    KeyAccess,
    OrganizationAccess,
    Permission,
    Principal,
    UserPrincipal,
    key_access,
    organization_access,
    user_of,
    user_organization_page,
)
from models.api_keys import api_key_list
from models.entities import ApiKeyStatus, ApiKeyType, LeakPolicy, Role
from models.errors import InvalidInput
from models.key_listing import ApiKeyRow
from models.key_verification import Verification, VerificationCode
from models.notification_settings import notification_settings_get
from models.pagination import Page, PageRequest
from models.restrictions import DenialReason, RestrictionMode
from schema import enums  # noqa: F401  (registers the domain's enums, described)
from schema.audit import audit_events, key_usage, revoked_key_uses, security_events
from schema.connection import (
    AFTER,
    BEFORE,
    FIRST,
    LAST,
    Connection,
    asks,
    connection,
    connection_arguments,
    node_connection,
)
from schema.context import Info
from schema.errors import BadUserInput
from schema.execution import NOT_LOADED, NotLoaded, preloaded
from schema.leaks import KeyLeak
from schema.notifications import NotificationSettings
from schema.teams import (
    Invitation,
    Member,
    organization_invitations,
    organization_members,
)
from schema.webhooks import WebhookEndpoint, organization_webhook_endpoints

ALLOWED_CIDRS_INPUT = (
    "IPv4 and IPv6 networks the key may be used from (`203.0.113.0/24`, `2001:db8::/32`; a bare "
    "address means /32 or /128), at most 50. Empty or null: any address. Meant for SECRET keys: "
    "the networks of the servers that hold them."
)
ALLOWED_ORIGINS_INPUT = (
    "Web origins the key may be used from (`https://app.example.com`, `http://localhost:3000`, "
    "`https://*.example.com` for any subdomain at any depth but not example.com itself), at "
    "most 50: scheme, host and optional port, no path. Empty or null: any origin. Meant for "
    "PUBLIC keys in web pages; an origin is a header, so this is abuse control, not "
    "authentication."
)

# The listings' names, inside their cursors: a cursor of one is refused by the other.
KEYS = "keys"
ORGANIZATIONS = "organizations"


@strawberry.type(
    description="A use of a key from outside its restrictions: what the owner may want to allow."
)
class KeyDenial:
    at: datetime = strawberry.field(description="When it was (the latest such use).")
    reason: DenialReason = strawberry.field(description="Which restriction it failed.")
    address: str | None = strawberry.field(
        description="The caller's address, when the verification named one."
    )
    origin: str | None = strawberry.field(
        description="The caller's origin (normalised), when the verification named one."
    )

    @classmethod
    def of(cls, key: entities.ApiKey | ApiKeyRow) -> KeyDenial | None:
        if key.last_denied_at is None or key.last_denied_reason is None:
            return None
        return cls(
            at=key.last_denied_at,
            reason=DenialReason(key.last_denied_reason),
            address=key.last_denied_address,
            origin=key.last_denied_origin,
        )


@strawberry.type(
    description="A key of an organization. Its secret token is never shown here: only in the "
    "createApiKey or rollApiKey response that made it."
)
class ApiKey:
    id: strawberry.ID = strawberry.field(description="The key's id (not its token).")
    name: str = strawberry.field(description="The name given at creation.")
    type: ApiKeyType = strawberry.field(description="PUBLIC or SECRET, fixed at creation.")
    is_default: bool = strawberry.field(
        description="Whether this is the organization's Default API Key, made with it."
    )
    start: str = strawberry.field(
        description="Enough of the token to recognise the key, useless to an attacker."
    )
    token: str | None = strawberry.field(
        description="The full token of a PUBLIC key; always null for a SECRET key."
    )
    created_at: datetime = strawberry.field(description="When the key was created.")
    expires_at: datetime | None = strawberry.field(
        description="When the key stops working (for a rolled key, the end of its grace "
        "period); null when it never expires."
    )
    rolled_at: datetime | None = strawberry.field(
        description="When the key was rolled; null unless it was."
    )
    last_used_at: datetime | None = strawberry.field(
        description="When the key was last verified successfully, to the minute; null if never."
    )
    allowed_cidrs: list[str] = strawberry.field(
        description="The networks the key may be used from, normalised; empty: any address."
    )
    allowed_origins: list[str] = strawberry.field(
        description="The web origins the key may be used from, normalised (lower case, IDNA, "
        "no default port); empty: any origin."
    )
    restriction_mode: RestrictionMode = strawberry.field(
        description="Whether a caller outside the restrictions is refused (ENFORCE) or only "
        "recorded (REPORT_ONLY)."
    )
    last_denial: KeyDenial | None = strawberry.field(
        description="The latest use refused by the restrictions (or that would have been, in "
        "REPORT_ONLY mode), as of the last usage flush; null if none."
    )
    organization_id: strawberry.Private[uuid.UUID]
    replaced_by_id: strawberry.Private[uuid.UUID | None]
    created_by_key_id: strawberry.Private[uuid.UUID | None]
    # What a listing decided for its whole page at once (one query for the replacements, one
    # `now`): the executor reads these instead of calling the resolvers (schema/execution.py),
    # so a page's nodes complete without a resolver call or an awaitable. NOT_LOADED elsewhere.
    listed_status: strawberry.Private[ApiKeyStatus | NotLoaded] = NOT_LOADED
    listed_replaced_by: strawberry.Private[ApiKey | None | NotLoaded] = NOT_LOADED

    @classmethod
    def listed(
        cls, key: ApiKeyRow, now: datetime, *, joined: bool, made: dict[int, ApiKey]
    ) -> ApiKey:
        """A node of a listing; `joined` when its rows carry their replacements
        (`ApiKeyRow.replacement`), else `replacedBy` is left to its resolver. `made` holds the
        page's nodes so far, by id (its integer: a UUID's hash is a Python call): a replacement
        listed on the same page is that node (the same row of the same statement; what it
        preloads is what its resolvers would answer).

        Filled in directly rather than through the dataclass `__init__`, whose keyword handling
        for 15 fields cost ~6 µs a node against <1 µs (a page builds up to 100 of them); the
        fields are exactly `from_model`'s."""
        fields = _fields(key)
        fields["listed_status"] = entities.api_key_status(key.expires_at, key.rolled_at, now)
        replacement = key.replacement
        if replacement is not None:
            if replacement.organization_id != key.organization_id:
                fields["listed_replaced_by"] = None
            else:
                fields["listed_replaced_by"] = made.get(replacement.id.int) or cls.from_model(
                    replacement
                )
        elif joined or key.replaced_by_id is None:
            fields["listed_replaced_by"] = None
        node = cls.__new__(cls)
        node.__dict__ = fields
        made[key.id.int] = node
        return node

    @classmethod
    def from_model(cls, key: entities.ApiKey | ApiKeyRow) -> ApiKey:
        # Filled in directly rather than through the dataclass `__init__` (see `listed`).
        node = cls.__new__(cls)
        node.__dict__ = _fields(key)
        return node

    usage = strawberry.field(
        resolver=key_usage,
        description="Verifications of this key per hour or day, oldest first, empty buckets "
        "included. Counts reach the database every USAGE_FLUSH_SECONDS (5 s by default).",
    )

    @strawberry.field(
        description="Where the key was found in public (GitHub's secret scanning, or a leak "
        "report), newest first; empty when it never was."
    )
    async def leaks(self, info: Info) -> list[KeyLeak]:
        return await info.context.leaks.load((self.organization_id, uuid.UUID(self.id)))

    @strawberry.field(description="ACTIVE, ROLLED or EXPIRED, decided now from the timestamps.")
    @preloaded("listed_status")
    def status(self, info: Info) -> ApiKeyStatus:
        if self.listed_status is not NOT_LOADED:
            return self.listed_status
        return entities.api_key_status(self.expires_at, self.rolled_at, info.context.now)

    @strawberry.field(
        description="The key that replaced this one when it was rolled; null when it was not "
        "rolled, or its replacement is deleted."
    )
    @preloaded("listed_replaced_by")
    def replaced_by(self, info: Info) -> ApiKey | None:
        # Not `async def`: a listing's answer (when the executor did not read it itself) is
        # returned as it is, and only a replacement not loaded yet is awaited.
        if self.listed_replaced_by is not NOT_LOADED:
            return self.listed_replaced_by
        if self.replaced_by_id is None:
            return None
        return self._load_replaced_by(info)  # type: ignore[return-value]

    @strawberry.field(
        description="The key that created this one (or rolled its predecessor) through the API; "
        "null when a person did, or once that key is deleted. After a leak, the keys the leaked "
        "key made are the ones to look at."
    )
    async def created_by_key(self, info: Info) -> ApiKey | None:
        if self.created_by_key_id is None:
            return None
        return self._visible(await info.context.api_keys.load(self.created_by_key_id))

    async def _load_replaced_by(self, info: Info) -> ApiKey | None:
        assert self.replaced_by_id is not None
        return self._visible(await info.context.api_keys.load(self.replaced_by_id))

    def _visible(self, key: entities.ApiKey | ApiKeyRow | None) -> ApiKey | None:
        if key is None or key.organization_id != self.organization_id:
            return None
        return ApiKey.from_model(key)


_MODES = {str(mode): mode for mode in RestrictionMode}


def _fields(key: entities.ApiKey | ApiKeyRow) -> dict[str, Any]:
    """An `ApiKey`'s dataclass fields from a key (its Private answers left NOT_LOADED)."""
    return {
        "id": str(key.id),  # a strawberry.ID is its str
        "name": key.name,
        "type": key.type,
        "is_default": key.is_default,
        "start": key.start,
        "token": key.token if key.type is entities.ApiKeyType.PUBLIC else None,
        "created_at": key.created_at,
        "expires_at": key.expires_at,
        "rolled_at": key.rolled_at,
        "last_used_at": key.last_used_at,
        "organization_id": key.organization_id,
        "replaced_by_id": key.replaced_by_id,
        "created_by_key_id": key.created_by_key_id,
        "allowed_cidrs": [] if key.allowed_cidrs is None else list(key.allowed_cidrs),
        "allowed_origins": [] if key.allowed_origins is None else list(key.allowed_origins),
        "restriction_mode": _MODES[key.restriction_mode],
        "last_denial": None if key.last_denied_at is None else KeyDenial.of(key),
        "listed_status": NOT_LOADED,
        "listed_replaced_by": NOT_LOADED,
    }


@strawberry.type(description="A team that owns API keys; users belong to it with a role.")
class Organization:
    id: strawberry.ID = strawberry.field(description="The organization's id.")
    name: str = strawberry.field(description="Its name, 1 to 100 characters.")
    created: strawberry.Private[datetime]
    role: strawberry.Private[Role | None]
    viewer_permissions: list[Permission] = strawberry.field(
        description="What the caller may do here. Clients show or hide controls from this list "
        "and keep no permission table of their own."
    )
    access: strawberry.Private[OrganizationAccess]

    @classmethod
    def from_access(cls, access: OrganizationAccess) -> Organization:
        organization = access.organization
        return cls(
            id=strawberry.ID(str(organization.id)),
            name=organization.name,
            created=organization.created_at,
            role=access.role,
            viewer_permissions=sorted(access.permissions, key=list(Permission).index),
            access=access,
        )

    # A public key is published by design: it reads `id`, `name` and `viewerPermissions` only
    # (the README says so); every other field needs LIST_KEYS, and answers FORBIDDEN without it.

    @strawberry.field(description="When the organization was founded. Not for public keys.")
    def created_at(self) -> datetime:
        self.access.demand(Permission.LIST_KEYS)
        return self.created

    @strawberry.field(
        description="The caller's role here; null when the caller is an API key. Not for public "
        "keys."
    )
    def viewer_role(self) -> Role | None:
        self.access.demand(Permission.LIST_KEYS)
        return self.role

    @strawberry.field(
        description="What happens to a SECRET key of this organization found in public: REVOKE "
        "(the default) or NOTIFY. Set by an OWNER with updateLeakPolicy. Not for public keys."
    )
    def leak_policy(self) -> LeakPolicy:
        self.access.demand(Permission.LIST_KEYS)
        return self.access.organization.leak_policy

    @strawberry.field(
        description="How long, in seconds, a rolled key keeps working when rollApiKey names no "
        "grace period: the server's ROLL_GRACE_SECONDS. Not for public keys."
    )
    def roll_grace_period_seconds(self, info: Info) -> int:
        self.access.demand(Permission.LIST_KEYS)
        return info.context.policies.keys.grace_default_seconds

    @strawberry.field(
        description="The longest grace period, in seconds, rollApiKey accepts. Not for public keys."
    )
    def max_roll_grace_period_seconds(self, info: Info) -> int:
        self.access.demand(Permission.LIST_KEYS)
        return info.context.policies.keys.grace_max_seconds

    audit_events = strawberry.field(
        resolver=audit_events,
        description="Who changed what in this organization, newest first (OWNER and ADMIN).",
    )
    revoked_key_uses = strawberry.field(
        resolver=revoked_key_uses,
        description="Deleted keys that are still being sent, most recently seen first. The "
        "senders were told NOT_FOUND.",
    )

    @strawberry.field(
        description="The organization's keys, newest first, a page at a time (a Relay "
        "connection). A key appears once it is created and until the purge job deletes it "
        "(expired keys stay listed as EXPIRED for EXPIRED_KEY_RETENTION_SECONDS). `search`, "
        "`types` and `statuses` narrow the list, and totalCount counts what they keep. Needs the "
        "LIST_KEYS permission (any member, or a secret key of this organization); a bad "
        "argument is a BAD_USER_INPUT error naming it."
    )
    async def api_keys(
        self,
        info: Info,
        first: Annotated[int | None, strawberry.argument(description=FIRST)] = None,
        after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
        last: Annotated[int | None, strawberry.argument(description=LAST)] = None,
        before: Annotated[str | None, strawberry.argument(description=BEFORE)] = None,
        search: Annotated[
            str | None,
            strawberry.argument(
                description="Keep keys whose name contains this text (any case), or whose token "
                "begins with it (a key's `start`, or a whole pasted token). At most 100 "
                "characters; empty means no search."
            ),
        ] = None,
        types: Annotated[
            list[ApiKeyType] | None,
            strawberry.argument(description="Keep keys of any of these types; empty or null: all."),
        ] = None,
        statuses: Annotated[
            list[ApiKeyStatus] | None,
            strawberry.argument(
                description="Keep keys in any of these statuses, decided now; empty or null: all."
            ),
        ] = None,
    ) -> Connection[ApiKey]:
        request = connection_arguments(KEYS, first, after, last, before)
        # Only the work the selection asks for: `totalCount` alone needs no page (the count
        # rides on a one-row query), and the replacements are joined only for `replacedBy`.
        if not (asks(info, "edges") or asks(info, "pageInfo")):
            request = PageRequest(first=0)
        joined = asks(info, "edges", "node", "replacedBy")
        try:
            page = await api_key_list(
                access=self.access,
                page=request,
                now=info.context.now,
                search=search,
                types=types,
                statuses=statuses,
                replacements=joined,
            )
        except InvalidInput as error:
            raise BadUserInput(error.message, field=error.field) from None
        now = info.context.now
        made: dict[int, ApiKey] = {}
        return node_connection(
            KEYS,
            page,
            lambda key: ApiKey.listed(key, now, joined=joined, made=made),
            lambda node: (node.created_at, node.id),
        )

    def present_user(self, user: entities.User) -> User:
        """A user row as this organization's viewer sees it (for members and invitations)."""
        return users_as_seen_by(self.access.principal)(user)

    members: Connection[Member] = strawberry.field(
        resolver=organization_members,
        description="The organization's members, earliest to join first, a page at a time (a "
        "Relay connection). Needs LIST_MEMBERS (any member; never an API key).",
    )
    webhook_endpoints: list[WebhookEndpoint] = strawberry.field(
        resolver=organization_webhook_endpoints,
        description="The organization's webhook endpoints, oldest first. Needs MANAGE_WEBHOOKS "
        "(OWNER and ADMIN; never an API key).",
    )
    invitations: list[Invitation] = strawberry.field(
        resolver=organization_invitations,
        description="The organization's invitations with `status` (pending by default; null "
        "for all), newest first.",
    )


@strawberry.type(description="A person with an account.")
class User:
    id: strawberry.ID = strawberry.field(description="The user's id.")
    email: str = strawberry.field(description="The email they sign in with.")
    created_at: datetime = strawberry.field(description="When they signed up.")
    # Whose eyes the user is seen through: the request's session (`me`) or the session a
    # signUp/signIn just made (its payload).
    principal: strawberry.Private[UserPrincipal]

    @classmethod
    def from_model(cls, user: entities.User, principal: UserPrincipal) -> User:
        return cls(
            id=strawberry.ID(str(user.id)),
            email=user.email,
            created_at=user.created_at,
            principal=principal,
        )

    @strawberry.field(description="Which notices reach you by mail; null on anyone else's account.")
    async def notification_settings(self) -> NotificationSettings | None:
        if self.principal.user_id != uuid.UUID(self.id):
            return None
        choices = await notification_settings_get(user_id=self.principal.user_id)
        return NotificationSettings.from_choices(choices)

    security_events = strawberry.field(
        resolver=security_events,
        description="Your account's security log, newest first: sign-ins, failed sign-ins, "
        "sign-outs, ended sessions, password changes.",
    )

    @strawberry.field(
        description="Your organizations (empty for anyone else's account), oldest first, a "
        "page at a time (a Relay connection); a bad argument is a BAD_USER_INPUT error naming it."
    )
    async def organizations(
        self,
        first: Annotated[int | None, strawberry.argument(description=FIRST)] = None,
        after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
        last: Annotated[int | None, strawberry.argument(description=LAST)] = None,
        before: Annotated[str | None, strawberry.argument(description=BEFORE)] = None,
    ) -> Connection[Organization]:
        request = connection_arguments(ORGANIZATIONS, first, after, last, before)
        if self.principal.user_id != uuid.UUID(self.id):
            # A member's `user` is visible to the organization's other members: their other
            # organizations are not.
            page: Page[OrganizationAccess] = Page([], False, False, 0)
        else:
            page = await user_organization_page(self.principal, request)
        return connection(
            ORGANIZATIONS,
            page,
            lambda access: (access.organization.created_at, access.organization.id),
            Organization.from_access,
        )


@strawberry.type(description="The verdict on a token; only a valid one names its key.")
class ApiKeyVerification:
    valid: bool = strawberry.field(description="True exactly when `code` is VALID.")
    code: VerificationCode = strawberry.field(description="Why the token is good or not.")
    key_id: strawberry.ID | None = strawberry.field(description="The key's id; null unless valid.")
    organization_id: strawberry.ID | None = strawberry.field(
        description="The key's organization; null unless valid."
    )
    type: ApiKeyType | None = strawberry.field(description="The key's type; null unless valid.")
    expires_at: datetime | None = strawberry.field(
        description="When the key stops working; null when it never does, or unless valid."
    )
    reason: DenialReason | None = strawberry.field(
        description="With FORBIDDEN, which restriction refused the caller; null otherwise."
    )

    @classmethod
    def from_result(cls, result: Verification) -> ApiKeyVerification:
        return cls(
            valid=result.valid,
            code=result.code,
            key_id=None if result.key_id is None else strawberry.ID(str(result.key_id)),
            organization_id=(
                None
                if result.organization_id is None
                else strawberry.ID(str(result.organization_id))
            ),
            type=result.type,
            expires_at=result.expires_at,
            reason=result.reason,
        )


def parse_id(value: str) -> uuid.UUID | None:
    """A client-given ID as a UUID; None when it is not one, and so names nothing."""
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


async def key_named(info: Info, id: str, permission: Permission) -> KeyAccess | None:
    """The key `id` names, with the caller's access for `permission`; None when the ID names
    no key the caller can see (answered as ApiKeyNotFound, like another organization's key)."""
    key_id = parse_id(id)
    principal = info.context.require_principal()
    return None if key_id is None else await key_access(principal, key_id, permission)


async def organization_named(
    info: Info, id: str, permission: Permission
) -> OrganizationAccess | None:
    """The organization `id` names, with the caller's access for `permission`; None when it
    names none the caller can see (answered as OrganizationNotFound)."""
    organization_id = parse_id(id)
    principal = info.context.require_principal()
    if organization_id is None:
        return None
    return await organization_access(principal, organization_id, permission)


def users_as_seen_by(principal: Principal) -> Callable[[entities.User], User]:
    """How user rows become `User`s for `principal` (a signed-in user: keys see no people)."""
    viewer = user_of(principal)
    return lambda user: User.from_model(user, viewer)
