"""The Mutation root, composed from one module per mutation."""

from __future__ import annotations

import strawberry

from schema.mutations.accept_invitation import accept_invitation
from schema.mutations.change_member_role import change_member_role
from schema.mutations.change_password import change_password
from schema.mutations.create_api_key import create_api_key
from schema.mutations.create_organization import create_organization
from schema.mutations.create_webhook_endpoint import create_webhook_endpoint
from schema.mutations.delete_api_key import delete_api_key
from schema.mutations.delete_organization import delete_organization
from schema.mutations.delete_webhook_endpoint import delete_webhook_endpoint
from schema.mutations.end_session import end_session
from schema.mutations.invite_member import invite_member
from schema.mutations.leave_organization import leave_organization
from schema.mutations.remove_member import remove_member
from schema.mutations.rename_api_key import rename_api_key
from schema.mutations.rename_organization import rename_organization
from schema.mutations.request_password_reset import request_password_reset
from schema.mutations.reset_password import reset_password
from schema.mutations.retry_webhook_delivery import retry_webhook_delivery
from schema.mutations.revoke_invitation import revoke_invitation
from schema.mutations.roll_api_key import roll_api_key
from schema.mutations.rotate_webhook_secret import rotate_webhook_secret
from schema.mutations.send_test_webhook import send_test_webhook
from schema.mutations.sign_in import sign_in
from schema.mutations.sign_out import sign_out
from schema.mutations.sign_up import sign_up
from schema.mutations.update_api_key import update_api_key
from schema.mutations.update_leak_policy import update_leak_policy
from schema.mutations.update_notification_settings import update_notification_settings
from schema.mutations.update_webhook_endpoint import update_webhook_endpoint


@strawberry.type(
    description="Every change: send mutations as POST with an application/json body. "
    "Expected failures are members of each result union that implement `Error`."
)
class Mutation:
    sign_up = strawberry.mutation(
        resolver=sign_up,
        description="Create a user, their first organization (they are its OWNER) with its "
        "public Default API Key, and a session. Needs no credential. EmailTaken: an account "
        "with this email exists; InvalidInput: a bad email, password or organization name.",
    )
    sign_in = strawberry.mutation(
        resolver=sign_in,
        description="Start a session with an email and password. Needs no credential. "
        "InvalidCredentials: the email or password is wrong (the same answer for both); "
        "TooManyAttempts: too many failures for this email or client address lately.",
    )
    sign_out = strawberry.mutation(
        resolver=sign_out,
        description="End the session this request uses, at once; true when it ended. Needs a "
        "session (an API key gets FORBIDDEN).",
    )
    end_session = strawberry.mutation(
        resolver=end_session,
        description="End one of the signed-in user's sessions (see `sessions`), at once. Needs "
        "a session. SessionNotFound: no such session of this user.",
    )
    create_organization = strawberry.mutation(
        resolver=create_organization,
        description="Create an organization with its public Default API Key; the caller "
        "becomes its OWNER. Needs a session. InvalidInput: a bad name.",
    )
    create_api_key = strawberry.mutation(
        resolver=create_api_key,
        description="Create a key. Needs MANAGE_KEYS in the organization (an OWNER or ADMIN, or "
        "a secret key of it). The token is in this response only. InvalidInput: a bad name or "
        "expiration; OrganizationNotFound: no such organization visible to the caller.",
    )
    roll_api_key = strawberry.mutation(
        resolver=roll_api_key,
        description="Replace an ACTIVE key with a new one; the old key keeps working for the "
        "grace period, then expires. Needs MANAGE_KEYS. ApiKeyNotFound: no such key visible to "
        "the caller; ApiKeyNotRollable: the key is already ROLLED or EXPIRED; InvalidInput: a "
        "grace period out of range.",
    )
    delete_api_key = strawberry.mutation(
        resolver=delete_api_key,
        description="Delete a key: it is refused from the very next request. Needs MANAGE_KEYS. "
        "ApiKeyNotFound: no such key visible to the caller.",
    )
    rename_api_key = strawberry.mutation(
        resolver=rename_api_key,
        description="Give a key a new name; its token, type and dates stay. Needs MANAGE_KEYS. "
        "ApiKeyNotFound: no such key visible to the caller; InvalidInput: a bad name.",
    )
    update_api_key = strawberry.mutation(
        resolver=update_api_key,
        description="Change a key's name, allowedCidrs, allowedOrigins or restrictionMode; the "
        "very next verification obeys the change. Needs MANAGE_KEYS. ApiKeyNotFound: no such "
        "key visible to the caller; InvalidInput: every bad field and entry at once.",
    )
    # -- teams (see README "Teams") --
    invite_member = strawberry.mutation(
        resolver=invite_member, description="Invites an email to an organization with a role."
    )
    accept_invitation = strawberry.mutation(
        resolver=accept_invitation, description="Joins the organization an invitation names."
    )
    revoke_invitation = strawberry.mutation(
        resolver=revoke_invitation, description="Revokes a pending invitation at once."
    )
    change_member_role = strawberry.mutation(
        resolver=change_member_role, description="Gives a member another role."
    )
    remove_member = strawberry.mutation(
        resolver=remove_member, description="Removes a member from an organization at once."
    )
    leave_organization = strawberry.mutation(
        resolver=leave_organization, description="Leaves an organization."
    )
    rename_organization = strawberry.mutation(
        resolver=rename_organization, description="Renames an organization."
    )
    update_leak_policy = strawberry.mutation(
        resolver=update_leak_policy,
        description="Sets what happens to the organization's secret keys found in public "
        "(OWNERs only).",
    )
    delete_organization = strawberry.mutation(
        resolver=delete_organization,
        description="Deletes an organization with its keys, members and invitations.",
    )
    # -- webhooks (see README "Webhooks"; MANAGE_WEBHOOKS: OWNER and ADMIN) --
    create_webhook_endpoint = strawberry.mutation(
        resolver=create_webhook_endpoint,
        description="Register a URL for the organization's events; its signing secret is in "
        "this response only. Needs MANAGE_WEBHOOKS. InvalidInput: a bad or refused URL (the "
        "SSRF guard) or unknown events; TooManyWebhookEndpoints: 10 already; "
        "OrganizationNotFound: no such organization visible to the caller.",
    )
    update_webhook_endpoint = strawberry.mutation(
        resolver=update_webhook_endpoint,
        description="Change an endpoint's URL, events or enabled flag. Needs MANAGE_WEBHOOKS. "
        "InvalidInput: a bad or refused URL, unknown events; WebhookEndpointNotFound.",
    )
    delete_webhook_endpoint = strawberry.mutation(
        resolver=delete_webhook_endpoint,
        description="Delete an endpoint and its deliveries. Needs MANAGE_WEBHOOKS. "
        "WebhookEndpointNotFound: no such endpoint visible to the caller.",
    )
    rotate_webhook_secret = strawberry.mutation(
        resolver=rotate_webhook_secret,
        description="Give an endpoint a new signing secret (in this response only); the old "
        "one keeps signing beside it for 24 hours. Needs MANAGE_WEBHOOKS. "
        "WebhookEndpointNotFound.",
    )
    send_test_webhook = strawberry.mutation(
        resolver=send_test_webhook,
        description="Queue a `webhook.test` event to one endpoint. Needs MANAGE_WEBHOOKS. "
        "WebhookEndpointNotFound.",
    )
    retry_webhook_delivery = strawberry.mutation(
        resolver=retry_webhook_delivery,
        description="Make a delivery due now for one more attempt. Needs MANAGE_WEBHOOKS. "
        "WebhookDeliveryNotFound: no such delivery visible to the caller.",
    )
    # -- account --
    change_password = strawberry.mutation(
        resolver=change_password, description="Changes your password; ends your other sessions."
    )
    request_password_reset = strawberry.mutation(
        resolver=request_password_reset, description="Mails a password-reset link."
    )
    reset_password = strawberry.mutation(
        resolver=reset_password, description="Sets a new password with a reset link's token."
    )
    update_notification_settings = strawberry.mutation(
        resolver=update_notification_settings,
        description="Turn your own notice mails on or off. Needs a session (an API key gets "
        "FORBIDDEN). InvalidInput: no setting given.",
    )
