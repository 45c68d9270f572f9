"""The permission matrix, generated from the schema: every query field and mutation × every
principal (anonymous; MEMBER, ADMIN, OWNER, public key, secret key, a rolled secret key inside
its grace period, a key created by a key, of organization A; the same seven of organization B) ×
every ID argument (the principal's own organization's object, the other organization's, a random
UUID, a malformed ID, and, where the ID may be left out, none); and, field by field, what each
principal may read of its own organization.

`MATRIX` is the one place the expected answers are written. A field or mutation added to the
schema without a row there fails `test_every_schema_field_has_a_row`. While one organization's
principals act, the other organization's rows must stay exactly as they were.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLObjectType

from models import tokens
from models.entities import ApiKey, Invitation, Membership, Organization, Role, Session, User
from schema import build_schema
from tests.harness import CREATE_API_KEY, Account, Api, Clock
from tests.support import ROLL_API_KEY, add_member

OWN, FOREIGN, RANDOM, MALFORMED, OMITTED = "own", "foreign", "random", "malformed", "omitted"
ID_VARIANTS = (OWN, FOREIGN, RANDOM, MALFORMED)
PRINCIPALS = (
    "anonymous",
    "MEMBER",
    "ADMIN",
    "OWNER",
    "public key",
    "secret key",
    "rolled secret key",
    "key created by a key",
)

# field: what its ID argument names ("-" for none), then one answer per principal, in the order
# of PRINCIPALS. An answer is one outcome for every ID variant, or one per variant in the order
# own, foreign, random, malformed[, omitted]. Outcomes: `ok` (success), `null`, a result type's
# name (an expected failure), UNAUTHENTICATED / FORBIDDEN (top-level errors), and for
# verifyApiKey the verification code.
MATRIX: dict[str, tuple[str, tuple[str, ...]]] = {
    # -- queries --
    "me": ("-", ("null", "ok", "ok", "ok", "null", "null", "null", "null")),
    "organization": (
        "organization",
        (
            "UNAUTHENTICATED",
            "ok null null null null",
            "ok null null null null",
            "ok null null null null",
            "ok null null null ok",
            "ok null null null ok",
            "ok null null null ok",
            "ok null null null ok",
        ),
    ),
    "apiKey": (
        "api key",
        (
            "UNAUTHENTICATED",
            "ok null null null",
            "ok null null null",
            "ok null null null",
            "FORBIDDEN FORBIDDEN FORBIDDEN null",
            "ok null null null",
            "ok null null null",
            "ok null null null",
        ),
    ),
    "verifyApiKey": (
        "token",
        (
            "UNAUTHENTICATED",
            *(["VALID NOT_FOUND NOT_FOUND MALFORMED"] * 7),
        ),
    ),
    "sessions": ("-", ("UNAUTHENTICATED", "ok", "ok", "ok", *["FORBIDDEN"] * 4)),
    # -- the organization's guarded fields (asked through `organization(id:)`) --
    "Organization.apiKeys": (
        "organization",
        (
            "UNAUTHENTICATED",
            *(["ok null null null"] * 3),
            "FORBIDDEN null null null",
            "ok null null null",
            "ok null null null",
            "ok null null null",
        ),
    ),
    "Organization.members": (
        "organization",
        (
            "UNAUTHENTICATED",
            *(["ok null null null"] * 3),
            *(["FORBIDDEN null null null"] * 2),
            "FORBIDDEN null null null",
            "FORBIDDEN null null null",
        ),
    ),
    "Organization.invitations": (
        "organization",
        (
            "UNAUTHENTICATED",
            *(["ok null null null"] * 3),
            *(["FORBIDDEN null null null"] * 2),
            "FORBIDDEN null null null",
            "FORBIDDEN null null null",
        ),
    ),
    # LIST_KEYS, like apiKeys: a public key may not read them.
    "Organization.leakPolicy": (
        "organization",
        (
            "UNAUTHENTICATED",
            *(["ok null null null"] * 3),
            "FORBIDDEN null null null",
            "ok null null null",
            "ok null null null",
            "ok null null null",
        ),
    ),
    "Organization.revokedKeyUses": (
        "organization",
        (
            "UNAUTHENTICATED",
            *(["ok null null null"] * 3),
            "FORBIDDEN null null null",
            "ok null null null",
            "ok null null null",
            "ok null null null",
        ),
    ),
    # VIEW_AUDIT_LOG: OWNERs, ADMINs and secret keys (not a rolled one: it may only read).
    "Organization.auditEvents": (
        "organization",
        (
            "UNAUTHENTICATED",
            "FORBIDDEN null null null",
            "ok null null null",
            "ok null null null",
            "FORBIDDEN null null null",
            "ok null null null",
            "FORBIDDEN null null null",
            "ok null null null",
        ),
    ),
    # -- mutations --
    "signUp": ("-", ("ok",) * 8),
    "signIn": ("-", ("ok",) * 8),
    "signOut": ("-", ("UNAUTHENTICATED", "ok", "ok", "ok", *["FORBIDDEN"] * 4)),
    "endSession": (
        "session",
        (
            "UNAUTHENTICATED",
            "ok SessionNotFound SessionNotFound SessionNotFound",
            "ok SessionNotFound SessionNotFound SessionNotFound",
            "ok SessionNotFound SessionNotFound SessionNotFound",
            *["FORBIDDEN"] * 4,
        ),
    ),
    "createOrganization": (
        "-",
        ("UNAUTHENTICATED", "ok", "ok", "ok", *["FORBIDDEN"] * 4),
    ),
    "createApiKey": (
        "organization",
        (
            "UNAUTHENTICATED",
            "FORBIDDEN OrganizationNotFound OrganizationNotFound OrganizationNotFound InvalidInput",
            "ok OrganizationNotFound OrganizationNotFound OrganizationNotFound InvalidInput",
            "ok OrganizationNotFound OrganizationNotFound OrganizationNotFound InvalidInput",
            "FORBIDDEN FORBIDDEN FORBIDDEN OrganizationNotFound FORBIDDEN",
            "ok OrganizationNotFound OrganizationNotFound OrganizationNotFound ok",
            "FORBIDDEN FORBIDDEN FORBIDDEN OrganizationNotFound FORBIDDEN",
            "ok OrganizationNotFound OrganizationNotFound OrganizationNotFound ok",
        ),
    ),
    "rollApiKey": (
        "api key",
        (
            "UNAUTHENTICATED",
            "FORBIDDEN ApiKeyNotFound ApiKeyNotFound ApiKeyNotFound",
            "ok ApiKeyNotFound ApiKeyNotFound ApiKeyNotFound",
            "ok ApiKeyNotFound ApiKeyNotFound ApiKeyNotFound",
            "FORBIDDEN FORBIDDEN FORBIDDEN ApiKeyNotFound",
            "ok ApiKeyNotFound ApiKeyNotFound ApiKeyNotFound",
            "FORBIDDEN FORBIDDEN FORBIDDEN ApiKeyNotFound",
            "ok ApiKeyNotFound ApiKeyNotFound ApiKeyNotFound",
        ),
    ),
    "deleteApiKey": (
        "api key",
        (
            "UNAUTHENTICATED",
            "FORBIDDEN ApiKeyNotFound ApiKeyNotFound ApiKeyNotFound",
            "ok ApiKeyNotFound ApiKeyNotFound ApiKeyNotFound",
            "ok ApiKeyNotFound ApiKeyNotFound ApiKeyNotFound",
            "FORBIDDEN FORBIDDEN FORBIDDEN ApiKeyNotFound",
            "ok ApiKeyNotFound ApiKeyNotFound ApiKeyNotFound",
            "FORBIDDEN FORBIDDEN FORBIDDEN ApiKeyNotFound",
            "ok ApiKeyNotFound ApiKeyNotFound ApiKeyNotFound",
        ),
    ),
    "renameApiKey": (
        "api key",
        (
            "UNAUTHENTICATED",
            "FORBIDDEN ApiKeyNotFound ApiKeyNotFound ApiKeyNotFound",
            "ok ApiKeyNotFound ApiKeyNotFound ApiKeyNotFound",
            "ok ApiKeyNotFound ApiKeyNotFound ApiKeyNotFound",
            "FORBIDDEN FORBIDDEN FORBIDDEN ApiKeyNotFound",
            "ok ApiKeyNotFound ApiKeyNotFound ApiKeyNotFound",
            "FORBIDDEN FORBIDDEN FORBIDDEN ApiKeyNotFound",
            "ok ApiKeyNotFound ApiKeyNotFound ApiKeyNotFound",
        ),
    ),
    "updateApiKey": (
        "api key",
        (
            "UNAUTHENTICATED",
            "FORBIDDEN ApiKeyNotFound ApiKeyNotFound ApiKeyNotFound",
            "ok ApiKeyNotFound ApiKeyNotFound ApiKeyNotFound",
            "ok ApiKeyNotFound ApiKeyNotFound ApiKeyNotFound",
            "FORBIDDEN FORBIDDEN FORBIDDEN ApiKeyNotFound",
            "ok ApiKeyNotFound ApiKeyNotFound ApiKeyNotFound",
            "FORBIDDEN FORBIDDEN FORBIDDEN ApiKeyNotFound",
            "ok ApiKeyNotFound ApiKeyNotFound ApiKeyNotFound",
        ),
    ),
    # -- teams --
    "inviteMember": (
        "organization",
        (
            "UNAUTHENTICATED",
            "FORBIDDEN OrganizationNotFound OrganizationNotFound OrganizationNotFound",
            "ok OrganizationNotFound OrganizationNotFound OrganizationNotFound",
            "ok OrganizationNotFound OrganizationNotFound OrganizationNotFound",
            *(["FORBIDDEN FORBIDDEN FORBIDDEN OrganizationNotFound"] * 2),
            "FORBIDDEN FORBIDDEN FORBIDDEN OrganizationNotFound",
            "FORBIDDEN FORBIDDEN FORBIDDEN OrganizationNotFound",
        ),
    ),
    "acceptInvitation": (
        "-",
        (
            "UNAUTHENTICATED",
            *(["InvitationNotFound"] * 3),
            "FORBIDDEN",
            "FORBIDDEN",
            "FORBIDDEN",
            "FORBIDDEN",
        ),
    ),
    "revokeInvitation": (
        "invitation",
        (
            "UNAUTHENTICATED",
            "FORBIDDEN InvitationNotFound InvitationNotFound InvitationNotFound",
            "ok InvitationNotFound InvitationNotFound InvitationNotFound",
            "ok InvitationNotFound InvitationNotFound InvitationNotFound",
            *(["FORBIDDEN FORBIDDEN FORBIDDEN InvitationNotFound"] * 2),
            "FORBIDDEN FORBIDDEN FORBIDDEN InvitationNotFound",
            "FORBIDDEN FORBIDDEN FORBIDDEN InvitationNotFound",
        ),
    ),
    "changeMemberRole": (
        "member",
        (
            "UNAUTHENTICATED",
            "FORBIDDEN MemberNotFound MemberNotFound MemberNotFound",
            "ok MemberNotFound MemberNotFound MemberNotFound",
            "ok MemberNotFound MemberNotFound MemberNotFound",
            *(["FORBIDDEN FORBIDDEN FORBIDDEN MemberNotFound"] * 2),
            "FORBIDDEN FORBIDDEN FORBIDDEN MemberNotFound",
            "FORBIDDEN FORBIDDEN FORBIDDEN MemberNotFound",
        ),
    ),
    "removeMember": (
        "member",
        (
            "UNAUTHENTICATED",
            "FORBIDDEN MemberNotFound MemberNotFound MemberNotFound",
            "ok MemberNotFound MemberNotFound MemberNotFound",
            "ok MemberNotFound MemberNotFound MemberNotFound",
            *(["FORBIDDEN FORBIDDEN FORBIDDEN MemberNotFound"] * 2),
            "FORBIDDEN FORBIDDEN FORBIDDEN MemberNotFound",
            "FORBIDDEN FORBIDDEN FORBIDDEN MemberNotFound",
        ),
    ),
    "leaveOrganization": (
        "joined organization",
        (
            "UNAUTHENTICATED",
            *(["ok OrganizationNotFound OrganizationNotFound OrganizationNotFound"] * 3),
            "FORBIDDEN",
            "FORBIDDEN",
            "FORBIDDEN",
            "FORBIDDEN",
        ),
    ),
    "renameOrganization": (
        "organization",
        (
            "UNAUTHENTICATED",
            "FORBIDDEN OrganizationNotFound OrganizationNotFound OrganizationNotFound",
            "FORBIDDEN OrganizationNotFound OrganizationNotFound OrganizationNotFound",
            "ok OrganizationNotFound OrganizationNotFound OrganizationNotFound",
            *(["FORBIDDEN FORBIDDEN FORBIDDEN OrganizationNotFound"] * 2),
            "FORBIDDEN FORBIDDEN FORBIDDEN OrganizationNotFound",
            "FORBIDDEN FORBIDDEN FORBIDDEN OrganizationNotFound",
        ),
    ),
    # MANAGE_ORGANIZATION: OWNERs only.
    "updateLeakPolicy": (
        "organization",
        (
            "UNAUTHENTICATED",
            "FORBIDDEN OrganizationNotFound OrganizationNotFound OrganizationNotFound",
            "FORBIDDEN OrganizationNotFound OrganizationNotFound OrganizationNotFound",
            "ok OrganizationNotFound OrganizationNotFound OrganizationNotFound",
            *(["FORBIDDEN FORBIDDEN FORBIDDEN OrganizationNotFound"] * 2),
            "FORBIDDEN FORBIDDEN FORBIDDEN OrganizationNotFound",
            "FORBIDDEN FORBIDDEN FORBIDDEN OrganizationNotFound",
        ),
    ),
    "deleteOrganization": (
        "joined organization",
        (
            "UNAUTHENTICATED",
            "FORBIDDEN OrganizationNotFound OrganizationNotFound OrganizationNotFound",
            "FORBIDDEN OrganizationNotFound OrganizationNotFound OrganizationNotFound",
            "ok OrganizationNotFound OrganizationNotFound OrganizationNotFound",
            *(["FORBIDDEN FORBIDDEN FORBIDDEN OrganizationNotFound"] * 2),
            "FORBIDDEN FORBIDDEN FORBIDDEN OrganizationNotFound",
            "FORBIDDEN FORBIDDEN FORBIDDEN OrganizationNotFound",
        ),
    ),
    # -- webhooks (OWNER and ADMIN; never an API key) --
    "Organization.webhookEndpoints": (
        "organization",
        (
            "UNAUTHENTICATED",
            "FORBIDDEN null null null",
            "ok null null null",
            "ok null null null",
            *(["FORBIDDEN null null null"] * 4),
        ),
    ),
    "createWebhookEndpoint": (
        "organization",
        (
            "UNAUTHENTICATED",
            "FORBIDDEN OrganizationNotFound OrganizationNotFound OrganizationNotFound",
            "ok OrganizationNotFound OrganizationNotFound OrganizationNotFound",
            "ok OrganizationNotFound OrganizationNotFound OrganizationNotFound",
            *(["FORBIDDEN FORBIDDEN FORBIDDEN OrganizationNotFound"] * 4),
        ),
    ),
    "updateWebhookEndpoint": (
        "webhook endpoint",
        (
            "UNAUTHENTICATED",
            "FORBIDDEN WebhookEndpointNotFound WebhookEndpointNotFound WebhookEndpointNotFound",
            "ok WebhookEndpointNotFound WebhookEndpointNotFound WebhookEndpointNotFound",
            "ok WebhookEndpointNotFound WebhookEndpointNotFound WebhookEndpointNotFound",
            *(["FORBIDDEN FORBIDDEN FORBIDDEN WebhookEndpointNotFound"] * 4),
        ),
    ),
    "deleteWebhookEndpoint": (
        "webhook endpoint",
        (
            "UNAUTHENTICATED",
            "FORBIDDEN WebhookEndpointNotFound WebhookEndpointNotFound WebhookEndpointNotFound",
            "ok WebhookEndpointNotFound WebhookEndpointNotFound WebhookEndpointNotFound",
            "ok WebhookEndpointNotFound WebhookEndpointNotFound WebhookEndpointNotFound",
            *(["FORBIDDEN FORBIDDEN FORBIDDEN WebhookEndpointNotFound"] * 4),
        ),
    ),
    "rotateWebhookSecret": (
        "webhook endpoint",
        (
            "UNAUTHENTICATED",
            "FORBIDDEN WebhookEndpointNotFound WebhookEndpointNotFound WebhookEndpointNotFound",
            "ok WebhookEndpointNotFound WebhookEndpointNotFound WebhookEndpointNotFound",
            "ok WebhookEndpointNotFound WebhookEndpointNotFound WebhookEndpointNotFound",
            *(["FORBIDDEN FORBIDDEN FORBIDDEN WebhookEndpointNotFound"] * 4),
        ),
    ),
    "sendTestWebhook": (
        "webhook endpoint",
        (
            "UNAUTHENTICATED",
            "FORBIDDEN WebhookEndpointNotFound WebhookEndpointNotFound WebhookEndpointNotFound",
            "ok WebhookEndpointNotFound WebhookEndpointNotFound WebhookEndpointNotFound",
            "ok WebhookEndpointNotFound WebhookEndpointNotFound WebhookEndpointNotFound",
            *(["FORBIDDEN FORBIDDEN FORBIDDEN WebhookEndpointNotFound"] * 4),
        ),
    ),
    "retryWebhookDelivery": (
        "webhook delivery",
        (
            "UNAUTHENTICATED",
            "FORBIDDEN WebhookDeliveryNotFound WebhookDeliveryNotFound WebhookDeliveryNotFound",
            "ok WebhookDeliveryNotFound WebhookDeliveryNotFound WebhookDeliveryNotFound",
            "ok WebhookDeliveryNotFound WebhookDeliveryNotFound WebhookDeliveryNotFound",
            *(["FORBIDDEN FORBIDDEN FORBIDDEN WebhookDeliveryNotFound"] * 4),
        ),
    ),
    # -- account (a wrong current password: the matrix must not change anyone's password) --
    "changePassword": (
        "-",
        (
            "UNAUTHENTICATED",
            *(["InvalidCredentials"] * 3),
            "FORBIDDEN",
            "FORBIDDEN",
            "FORBIDDEN",
            "FORBIDDEN",
        ),
    ),
    "updateNotificationSettings": (
        "-",
        ("UNAUTHENTICATED", "ok", "ok", "ok", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN"),
    ),
    "requestPasswordReset": ("-", ("ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok")),
    "resetPassword": (
        "-",
        tuple(["ResetTokenInvalid"] * 8),
    ),
}

SUCCESSES = {
    "SignedIn",
    "OrganizationCreated",
    "ApiKeyCreated",
    "ApiKeyRolled",
    "ApiKeyDeleted",
    "ApiKeyRenamed",
    "ApiKeyUpdated",
    "SessionEnded",
    "MemberInvited",
    "InvitationRevoked",
    "MemberRoleChanged",
    "MemberRemoved",
    "OrganizationLeft",
    "OrganizationRenamed",
    "LeakPolicyUpdated",
    "OrganizationDeleted",
    "PasswordResetRequested",
    "NotificationSettingsUpdated",
    "WebhookEndpointCreated",
    "WebhookEndpointUpdated",
    "WebhookEndpointDeleted",
    "WebhookSecretRotated",
    "TestWebhookSent",
    "WebhookDeliveryRetried",
    "Organization",
    "ApiKey",
    "User",
    "Session",
}

DOCUMENTS = {
    "me": "query Q { me { __typename id } }",
    "organization": "query Q($id: ID) { organization(id: $id) { __typename id } }",
    # The restrictions are read with the key: whoever may read it reads them, nobody else.
    "apiKey": (
        "query Q($id: ID!) { apiKey(id: $id) { __typename id allowedCidrs allowedOrigins "
        "restrictionMode lastDenial { reason address origin } } }"
    ),
    "verifyApiKey": (
        "query Q($id: String!) { verifyApiKey(token: $id, clientIp: \"10.0.0.1\") "
        "{ __typename code reason } }"
    ),
    "sessions": "query Q { sessions { __typename id } }",
    "signUp": "mutation Q($input: SignUpInput!) { signUp(input: $input) { __typename } }",
    "signIn": "mutation Q($input: SignInInput!) { signIn(input: $input) { __typename } }",
    "signOut": "mutation Q { signOut }",
    "endSession": "mutation Q($id: ID!) { endSession(input: {id: $id}) { __typename } }",
    "createOrganization": (
        'mutation Q { createOrganization(input: {name: "Side"}) { __typename } }'
    ),
    "createApiKey": (
        'mutation Q($id: ID) { createApiKey(input: {organizationId: $id, name: "m"}) '
        "{ __typename } }"
    ),
    "rollApiKey": "mutation Q($id: ID!) { rollApiKey(input: {id: $id}) { __typename } }",
    "deleteApiKey": "mutation Q($id: ID!) { deleteApiKey(input: {id: $id}) { __typename } }",
    "renameApiKey": (
        'mutation Q($id: ID!) { renameApiKey(input: {id: $id, name: "n"}) { __typename } }'
    ),
    "updateApiKey": (
        "mutation Q($id: ID!) { updateApiKey(input: {id: $id, "
        'allowedCidrs: ["10.0.0.0/8"], restrictionMode: REPORT_ONLY}) { __typename } }'
    ),
    "Organization.apiKeys": (
        "query Q($id: ID) { organization(id: $id) { __typename apiKeys { totalCount } } }"
    ),
    "Organization.members": (
        "query Q($id: ID) { organization(id: $id) { __typename members { totalCount } } }"
    ),
    "Organization.invitations": (
        "query Q($id: ID) { organization(id: $id) { __typename invitations { id } } }"
    ),
    "Organization.leakPolicy": (
        "query Q($id: ID) { organization(id: $id) { __typename leakPolicy } }"
    ),
    "Organization.revokedKeyUses": (
        "query Q($id: ID) { organization(id: $id) { __typename "
        "revokedKeyUses { edges { node { keyId leaks { url } } } } } }"
    ),
    "Organization.auditEvents": (
        "query Q($id: ID) { organization(id: $id) { __typename auditEvents { edges { cursor } } } }"
    ),
    "Organization.webhookEndpoints": (
        "query Q($id: ID) { organization(id: $id) { __typename webhookEndpoints { id } } }"
    ),
    "createWebhookEndpoint": (
        "mutation Q($id: ID!) { createWebhookEndpoint(input: {organizationId: $id, "
        'url: "https://93.184.215.14/hooks", events: ["*"]}) { __typename } }'
    ),
    "updateWebhookEndpoint": (
        "mutation Q($id: ID!) { updateWebhookEndpoint(input: {id: $id, enabled: true}) "
        "{ __typename } }"
    ),
    "deleteWebhookEndpoint": (
        "mutation Q($id: ID!) { deleteWebhookEndpoint(input: {id: $id}) { __typename } }"
    ),
    "rotateWebhookSecret": (
        "mutation Q($id: ID!) { rotateWebhookSecret(input: {id: $id}) { __typename } }"
    ),
    "sendTestWebhook": "mutation Q($id: ID!) { sendTestWebhook(input: {id: $id}) { __typename } }",
    "retryWebhookDelivery": (
        "mutation Q($id: ID!) { retryWebhookDelivery(input: {id: $id}) { __typename } }"
    ),
    "inviteMember": (
        'mutation Q($id: ID!) { inviteMember(input: {organizationId: $id, email: "n@example.com"})'
        " { __typename } }"
    ),
    "acceptInvitation": (
        "mutation Q($token: String!) { acceptInvitation(input: {token: $token}) { __typename } }"
    ),
    "revokeInvitation": (
        "mutation Q($id: ID!) { revokeInvitation(input: {id: $id}) { __typename } }"
    ),
    "changeMemberRole": (
        "mutation Q($id: ID!, $user: ID!) { changeMemberRole(input: "
        "{organizationId: $id, userId: $user, role: ADMIN}) { __typename } }"
    ),
    "removeMember": (
        "mutation Q($id: ID!, $user: ID!) { removeMember(input: "
        "{organizationId: $id, userId: $user}) { __typename } }"
    ),
    "leaveOrganization": (
        "mutation Q($id: ID!) { leaveOrganization(input: {organizationId: $id}) { __typename } }"
    ),
    "renameOrganization": (
        'mutation Q($id: ID!) { renameOrganization(input: {id: $id, name: "Renamed"}) '
        "{ __typename } }"
    ),
    "updateLeakPolicy": (
        "mutation Q($id: ID!) { updateLeakPolicy(input: {organizationId: $id, "
        "leakPolicy: NOTIFY}) { __typename } }"
    ),
    "deleteOrganization": (
        "mutation Q($id: ID!) { deleteOrganization(input: "
        '{id: $id, confirmName: "My organization"}) { __typename } }'
    ),
    "changePassword": (
        'mutation Q { changePassword(input: {currentPassword: "not the password", '
        'newPassword: "not the password either"}) { __typename } }'
    ),
    "updateNotificationSettings": (
        "mutation Q { updateNotificationSettings(input: {expiryNotices: false}) { __typename } }"
    ),
    "requestPasswordReset": (
        "mutation Q($email: String!) { requestPasswordReset(input: {email: $email}) "
        "{ __typename } }"
    ),
    "resetPassword": (
        "mutation Q($token: String!) { resetPassword(input: {token: $token, "
        'newPassword: "a new passphrase"}) { __typename } }'
    ),
}

# Organization fields anyone who may see the organization may read: no row of their own.
PLAIN_ORGANIZATION_FIELDS = {
    "id",
    "name",
    "createdAt",
    "viewerRole",
    "viewerPermissions",
    "rollGracePeriodSeconds",
    "maxRollGracePeriodSeconds",
}


def expected(field: str, principal: str, variant: str) -> str:
    target, answers = MATRIX[field]
    outcomes = answers[PRINCIPALS.index(principal)].split()
    if len(outcomes) == 1:
        return outcomes[0]
    return outcomes[(*ID_VARIANTS, OMITTED).index(variant)]


def variants(field: str) -> tuple[str, ...]:
    target, _ = MATRIX[field]
    if target == "-":
        return ("-",)
    if field in ("organization", "createApiKey"):
        return (*ID_VARIANTS, OMITTED)
    return ID_VARIANTS


def schema_fields() -> set[str]:
    schema = build_schema()
    graphql_schema = schema._schema
    fields: set[str] = set()
    for root in (graphql_schema.query_type, graphql_schema.mutation_type):
        assert root is not None
        fields |= {name for name in root.fields if not name.startswith("__")}
    organization = graphql_schema.get_type("Organization")
    assert isinstance(organization, GraphQLObjectType)
    fields |= {f"Organization.{name}" for name in organization.fields} - {
        f"Organization.{name}" for name in PLAIN_ORGANIZATION_FIELDS
    }
    return fields


def test_every_schema_field_has_a_row() -> None:
    assert schema_fields() == set(MATRIX) == set(DOCUMENTS)


@dataclass
class Tenant:
    """One organization with a principal of every kind, and objects others must not reach."""

    owner: Account
    admin: Account
    member: Account
    secret_token: str
    rolled_token: str  # a secret key rolled by the owner, inside its grace period
    made_by_key_token: str  # a secret key created by `secret_token`
    stranger_key_id: str  # a key other tenants' principals aim at
    stranger_session_id: str  # a session of the owner that others aim at
    stranger_invitation_id: str  # a pending invitation others aim at
    webhook_endpoint_id: str  # an endpoint (and a delivery to it) everyone aims at
    webhook_delivery_id: str


async def tenant(api: Api) -> Tenant:
    owner = await api.sign_up()
    admin, member = await api.sign_up(), await api.sign_up()
    await add_member(admin, owner.organization_id, Role.ADMIN)
    await add_member(member, owner.organization_id, Role.MEMBER)
    _, secret = await api.create_key(owner, name="principal")
    to_roll, rolled = await api.create_key(owner, name="rolled")
    await api.query(ROLL_API_KEY, {"input": {"id": to_roll["id"]}}, token=owner.session)
    made = await api.query(CREATE_API_KEY, {"input": {"name": "made"}}, token=secret)
    made_by_key = made["createApiKey"]["token"]
    stranger_key, _ = await api.create_key(owner, name="target")
    await api.sign_in(owner.email)
    data = await api.query("query { sessions { id } }", token=owner.session)
    invited = await _invite(api, owner)
    endpoint_id = await _webhook_endpoint(api, owner)
    tested = await api.query(
        "mutation Q($id: ID!) { sendTestWebhook(input: {id: $id}) "
        "{ ... on TestWebhookSent { delivery { id } } } }",
        {"id": endpoint_id},
        token=owner.session,
    )
    return Tenant(
        owner=owner,
        admin=admin,
        member=member,
        secret_token=secret,
        rolled_token=rolled,
        made_by_key_token=made_by_key,
        stranger_key_id=stranger_key["id"],
        stranger_session_id=data["sessions"][0]["id"],
        stranger_invitation_id=invited,
        webhook_endpoint_id=endpoint_id,
        webhook_delivery_id=tested["sendTestWebhook"]["delivery"]["id"],
    )


async def _webhook_endpoint(api: Api, owner: Account) -> str:
    """A fresh webhook endpoint of `owner`'s organization; its id."""
    data = await api.query(
        "mutation Q($id: ID!) { createWebhookEndpoint(input: {organizationId: $id, "
        'url: "https://93.184.215.14/hooks", events: ["api_key.created"]}) '
        "{ ... on WebhookEndpointCreated { endpoint { id } } } }",
        {"id": owner.organization_id},
        token=owner.session,
    )
    return str(data["createWebhookEndpoint"]["endpoint"]["id"])


async def _invite(api: Api, owner: Account) -> str:
    """A fresh pending invitation to `owner`'s organization; its id."""
    data = await api.query(
        "mutation Q($id: ID!, $email: String!) { inviteMember(input: "
        "{organizationId: $id, email: $email}) { ... on MemberInvited { invitation { id } } } }",
        {"id": owner.organization_id, "email": f"{uuid.uuid4().hex[:12]}@example.com"},
        token=owner.session,
    )
    return str(data["inviteMember"]["invitation"]["id"])


async def snapshot(tenant: Tenant) -> list[Any]:
    organization_id = uuid.UUID(tenant.owner.organization_id)
    user_ids = [uuid.UUID(a.user_id) for a in (tenant.owner, tenant.admin, tenant.member)]
    return [
        await Organization.filter(id=organization_id).values(),
        await Membership.filter(organization_id=organization_id).order_by("id").values(),
        await ApiKey.filter(organization_id=organization_id).order_by("id").values(),
        await User.filter(id__in=user_ids).order_by("id").values(),
        await Session.filter(user_id__in=user_ids).order_by("id").values(),
        await Invitation.filter(organization_id=organization_id).order_by("id").values(),
    ]


def outcome(field: str, status: int, body: dict[str, Any]) -> str:
    assert status == 200, body
    if "errors" in body:
        assert len(body["errors"]) == 1, body
        code = body["errors"][0].get("extensions", {}).get("code")
        assert code in ("UNAUTHENTICATED", "FORBIDDEN"), body
        return str(code)
    value = body["data"][field.split(".")[0].lower() if "." in field else field]
    if value is None:
        return "null"
    if value is True or isinstance(value, list):
        return "ok"
    if field == "verifyApiKey":
        return str(value["code"])
    typename = value["__typename"]
    return "ok" if typename in SUCCESSES else str(typename)


async def test_the_permission_matrix(api: Api, db: None, clock: Clock) -> None:
    # given two organizations with a principal of every kind
    tenants = [await tenant(api), await tenant(api)]
    cells = 0
    wrong: list[tuple[str, str, str, str, dict[str, Any]]] = []
    for home, away in (tenants, tenants[::-1]):
        before = await snapshot(away)
        # (anonymous belongs to no organization: it is asked once)
        principals = PRINCIPALS if home is tenants[0] else PRINCIPALS[1:]
        for principal in principals:
            for field in MATRIX:
                for variant in variants(field):
                    token = await _credential(api, principal, home)
                    variables = await _variables(
                        api, field, variant, token, home, away, principal, clock
                    )
                    status, body = await api.raw(DOCUMENTS[field], variables, token=token)
                    # then
                    got = outcome(field, status, body)
                    if got != expected(field, principal, variant):
                        wrong.append((field, principal, variant, got, body))
                    cells += 1
        # then the other organization is untouched
        assert await snapshot(away) == before
    assert not wrong, "\n".join(" | ".join(map(str, cell)) for cell in wrong)
    assert cells == len(PRINCIPALS) * 2 * sum(len(variants(f)) for f in MATRIX) - sum(
        len(variants(f)) for f in MATRIX
    )


async def _credential(api: Api, principal: str, home: Tenant) -> str | None:
    """The principal's credential; a fresh session each time, as signOut may end it."""
    users = {"MEMBER": home.member, "ADMIN": home.admin, "OWNER": home.owner}
    if principal in users:
        return await api.sign_in(users[principal].email)
    if principal == "public key":
        return str(home.owner.default_key["token"])
    keys = {
        "secret key": home.secret_token,
        "rolled secret key": home.rolled_token,
        "key created by a key": home.made_by_key_token,
    }
    return keys.get(principal)


async def _variables(
    api: Api,
    field: str,
    variant: str,
    token: str | None,
    home: Tenant,
    away: Tenant,
    principal: str,
    clock: Clock,
) -> dict[str, Any]:
    if field == "acceptInvitation":
        return {"token": tokens.generate(tokens.TokenKind.INVITATION)}
    if field == "resetPassword":
        return {"token": tokens.generate(tokens.TokenKind.PASSWORD_RESET)}
    if field == "requestPasswordReset":
        return {"email": f"{uuid.uuid4().hex[:12]}@example.com"}
    target, _ = MATRIX[field]
    if target == "member":
        return await _member_variables(api, variant, home, away)
    if target == "joined organization" and variant == OWN:
        users = {"MEMBER": home.member, "ADMIN": home.admin, "OWNER": home.owner}
        if principal not in users:
            return {"id": home.owner.organization_id}
        # an organization of its own to leave or delete, where it holds its role
        host = await api.sign_up()
        await add_member(users[principal], host.organization_id, Role(principal))
        return {"id": host.organization_id}
    if target == "invitation" and variant in (OWN, FOREIGN):
        return {
            "id": await _invite(api, home.owner) if variant == OWN else away.stranger_invitation_id
        }
    if field == "signUp":
        email = f"{uuid.uuid4().hex[:12]}@example.com"
        return {"input": {"email": email, "password": "correct horse battery staple"}}
    if field == "signIn":
        return {"input": {"email": home.owner.email, "password": "correct horse battery staple"}}
    if target == "-" or variant == OMITTED:
        return {}
    if variant == RANDOM:
        return {
            "id": tokens.generate(tokens.TokenKind.SECRET_KEY)
            if target == "token"
            else str(uuid.uuid4())
        }
    if variant == MALFORMED:
        return {"id": "sk_nope" if target == "token" else "not-an-id"}
    if target in ("organization", "joined organization"):
        return {"id": (home if variant == OWN else away).owner.organization_id}
    if target == "token":
        return {"id": (home if variant == OWN else away).secret_token}
    if target == "webhook delivery":
        return {"id": (home if variant == OWN else away).webhook_delivery_id}
    if target == "webhook endpoint":
        if variant == OWN and field == "deleteWebhookEndpoint" and principal in ("ADMIN", "OWNER"):
            return {"id": await _webhook_endpoint(api, home.owner)}  # at most 10 per organization
        return {"id": (home if variant == OWN else away).webhook_endpoint_id}
    if target == "api key":
        if variant == FOREIGN:
            return {"id": away.stranger_key_id}
        key, _ = await api.create_key(home.owner, name="victim")
        return {"id": key["id"]}
    assert target == "session"
    if variant == FOREIGN:
        return {"id": away.stranger_session_id}
    # a fresh second session of the principal's own user (the owner's, for a key)
    account = home.owner
    for candidate in (home.member, home.admin):
        if token and await _is(api, token, candidate):
            account = candidate
    # the newest session (the owner signs in for every cell, and `sessions` lists 100)
    clock.advance(microseconds=1)
    fresh = await api.sign_in(account.email)
    # By its digest: `sessions` lists the newest 100, and every session here has the same
    # created_at (the clock stands still), so the fresh one need not be among them.
    return {"id": str((await Session.get(digest=tokens.digest(fresh))).id)}


async def _member_variables(api: Api, variant: str, home: Tenant, away: Tenant) -> dict[str, Any]:
    """An organization and a MEMBER of it: a fresh one of the principal's own organization, the
    other organization's, or ids naming nothing."""
    if variant == OWN:
        victim = await api.sign_up()
        await add_member(victim, home.owner.organization_id, Role.MEMBER)
        return {"id": home.owner.organization_id, "user": victim.user_id}
    if variant == FOREIGN:
        return {"id": away.owner.organization_id, "user": away.member.user_id}
    if variant == RANDOM:
        return {"id": str(uuid.uuid4()), "user": str(uuid.uuid4())}
    return {"id": "not-an-id", "user": "not-an-id"}


async def _is(api: Api, token: str, account: Account) -> bool:
    status, body = await api.raw("query { me { id } }", token=token)
    me = body.get("data", {}).get("me") if status == 200 else None
    return bool(me and me["id"] == account.user_id)


# What each principal may read of its own organization, field by field (the README's "who may do
# what"): a public key reads `id`, `name` and `viewerPermissions`, nothing more.
PUBLIC_ORGANIZATION_FIELDS = frozenset({"id", "name", "viewerPermissions"})
ORGANIZATION_FIELD = {
    "apiKeys": "apiKeys { totalCount }",
    "members": "members { totalCount }",
    "invitations": "invitations { id }",
    "auditEvents": "auditEvents { edges { cursor } }",
    "revokedKeyUses": "revokedKeyUses { edges { node { keyId leaks { url } } } }",
    "webhookEndpoints": "webhookEndpoints { id }",
}
# The team's fields are for people: no API key reads them (see the teams' roles table).
PEOPLE_ONLY_FIELDS = frozenset({"members", "invitations", "webhookEndpoints"})
PEOPLE = frozenset({"MEMBER", "ADMIN", "OWNER"})
# Fields only these principals read (the table's rows for them say the same).
FIELD_READERS = {
    "webhookEndpoints": frozenset({"ADMIN", "OWNER"}),
    "auditEvents": frozenset({"ADMIN", "OWNER", "secret key", "key created by a key"}),
}


def organization_fields() -> list[str]:
    organization = build_schema()._schema.get_type("Organization")
    return sorted(organization.fields)  # type: ignore[union-attr]


async def test_organization_fields_by_principal(api: Api, db: None) -> None:
    # given one organization with a principal of every kind
    home = await tenant(api)
    wrong: list[tuple[str, str, str]] = []
    for principal in PRINCIPALS[1:]:
        for name in organization_fields():
            # when the principal reads one field of its own organization
            token = await _credential(api, principal, home)
            document = (
                "query Q($id: ID) { organization(id: $id) { "
                + ORGANIZATION_FIELD.get(name, name)
                + " } }"
            )
            status, body = await api.raw(document, {"id": home.owner.organization_id}, token=token)
            # then it is allowed exactly as the table says
            assert status == 200, body
            got = body["errors"][0]["extensions"]["code"] if "errors" in body else "ok"
            allowed = (
                (principal != "public key" or name in PUBLIC_ORGANIZATION_FIELDS)
                and (principal in PEOPLE or name not in PEOPLE_ONLY_FIELDS)
                and principal in FIELD_READERS.get(name, PRINCIPALS)
            )
            if got != ("ok" if allowed else "FORBIDDEN"):
                wrong.append((principal, name, got))
    assert not wrong, wrong
