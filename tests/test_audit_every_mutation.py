"""Every mutation in the schema leaves its trace: a change to an organization writes its audit
events, an account-level change writes to the user's security log. A mutation this table does not
know fails the test, so a new mutation cannot ship without its event."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass

import pytest

from models.audit_entities import AuditEvent, SecurityEvent
from schema import build_schema
from settings import Settings
from tests.harness import FAST_PASSWORDS, PASSWORD, SIGN_IN, SIGN_UP, Account, Api
from tests.leak_support import SET_LEAK_POLICY
from tests.support import DELETE_API_KEY, ROLL_API_KEY
from tests.team_support import (
    CHANGE_PASSWORD,
    DELETE_ORGANIZATION,
    LEAVE_ORGANIZATION,
    REMOVE_MEMBER,
    RENAME_ORGANIZATION,
    REQUEST_PASSWORD_RESET,
    RESET_PASSWORD,
    REVOKE_INVITATION,
    SmtpServer,
    accept,
    change_role,
    free_port,
    invite,
    join,
)
from tests.test_passwords import reset_token

CREATE_ORGANIZATION = """
mutation Create($input: CreateOrganizationInput!) {
  createOrganization(input: $input) { __typename }
}
"""
END_SESSION = "mutation End($input: EndSessionInput!) { endSession(input: $input) { __typename } }"
RENAME_API_KEY = """
mutation Rename($input: RenameApiKeyInput!) { renameApiKey(input: $input) { __typename } }
"""
UPDATE_API_KEY = """
mutation Update($input: UpdateApiKeyInput!) { updateApiKey(input: $input) { __typename } }
"""
SESSIONS = "query { sessions { id current } }"
UPDATE_NOTIFICATION_SETTINGS = """
mutation Update($input: UpdateNotificationSettingsInput!) {
  updateNotificationSettings(input: $input) { __typename }
}
"""
NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def settings(database_url: str) -> Iterator[Settings]:
    """With mail on (never delivered: the reset token is read from the outbox)."""
    yield Settings(
        database_url=database_url,
        smtp_url=SmtpServer(free_port()).url,
        **FAST_PASSWORDS,  # type: ignore[arg-type]
    )


@dataclass(frozen=True)
class Trace:
    """What a mutation must write: audit actions (in chain order) and security actions."""

    audit: tuple[str, ...] = ()
    security: tuple[str, ...] = ()


Act = Callable[[], Awaitable[object]]
# Prepares what the mutation needs (its own events are not counted) and returns the mutation.
Setup = Callable[[Api, Account], Awaitable[Act]]


async def _ok(api: Api, document: str, variables: dict[str, object], token: str | None) -> None:
    data = await api.query(document, variables, token=token)
    result = next(iter(data.values()))
    assert result is True or result["__typename"] not in ("InvalidInput", "Forbidden"), result
    if isinstance(result, dict):
        assert not result["__typename"].endswith(("NotFound", "Error")), result


def _do(document: str, variables: dict[str, object], token: str | None) -> Callable[[Api], Act]:
    return lambda api: lambda: _ok(api, document, variables, token)


async def _sign_up(api: Api, account: Account) -> Act:
    input = {"email": "new@example.com", "password": PASSWORD}
    return _do(SIGN_UP, {"input": input}, None)(api)


async def _sign_in(api: Api, account: Account) -> Act:
    return _do(SIGN_IN, {"input": {"email": account.email, "password": PASSWORD}}, None)(api)


async def _sign_out(api: Api, account: Account) -> Act:
    return _do("mutation { signOut }", {}, account.session)(api)


async def _end_session(api: Api, account: Account) -> Act:
    other = await api.sign_in(account.email)
    sessions = (await api.query(SESSIONS, token=other))["sessions"]
    [first] = [session["id"] for session in sessions if not session["current"]]
    return _do(END_SESSION, {"input": {"id": first}}, other)(api)


async def _create_organization(api: Api, account: Account) -> Act:
    return _do(CREATE_ORGANIZATION, {"input": {"name": "Second"}}, account.session)(api)


async def _create_api_key(api: Api, account: Account) -> Act:
    return lambda: api.create_key(account)


async def _roll_api_key(api: Api, account: Account) -> Act:
    return _do(ROLL_API_KEY, {"input": {"id": account.default_key["id"]}}, account.session)(api)


async def _rename_api_key(api: Api, account: Account) -> Act:
    input = {"id": account.default_key["id"], "name": "Website"}
    return _do(RENAME_API_KEY, {"input": input}, account.session)(api)


async def _update_api_key(api: Api, account: Account) -> Act:
    input = {"id": account.default_key["id"], "allowedOrigins": ["https://app.example.com"]}
    return _do(UPDATE_API_KEY, {"input": input}, account.session)(api)


async def _delete_api_key(api: Api, account: Account) -> Act:
    return _do(DELETE_API_KEY, {"input": {"id": account.default_key["id"]}}, account.session)(api)


async def _invite_member(api: Api, account: Account) -> Act:
    return lambda: invite(api, account, "guest@example.com")


async def _accept_invitation(api: Api, account: Account) -> Act:
    guest = await api.sign_up()
    invited = await invite(api, account, guest.email)
    return lambda: accept(api, guest.session, invited["invitationToken"])


async def _revoke_invitation(api: Api, account: Account) -> Act:
    invited = await invite(api, account, "guest@example.com")
    input = {"id": invited["invitation"]["id"]}
    return _do(REVOKE_INVITATION, {"input": input}, account.session)(api)


async def _change_member_role(api: Api, account: Account) -> Act:
    member = await join(api, account)
    return lambda: change_role(api, account, member, "ADMIN")


async def _remove_member(api: Api, account: Account) -> Act:
    member = await join(api, account)
    input = {"organizationId": account.organization_id, "userId": member.user_id}
    return _do(REMOVE_MEMBER, {"input": input}, account.session)(api)


async def _leave_organization(api: Api, account: Account) -> Act:
    member = await join(api, account)
    input = {"organizationId": account.organization_id}
    return _do(LEAVE_ORGANIZATION, {"input": input}, member.session)(api)


async def _rename_organization(api: Api, account: Account) -> Act:
    input = {"id": account.organization_id, "name": "Renamed"}
    return _do(RENAME_ORGANIZATION, {"input": input}, account.session)(api)


async def _update_leak_policy(api: Api, account: Account) -> Act:
    input = {"organizationId": account.organization_id, "leakPolicy": "NOTIFY"}
    return _do(SET_LEAK_POLICY, {"input": input}, account.session)(api)


async def _delete_organization(api: Api, account: Account) -> Act:
    input = {"id": account.organization_id, "confirmName": "My organization"}
    return _do(DELETE_ORGANIZATION, {"input": input}, account.session)(api)


async def _change_password(api: Api, account: Account) -> Act:
    input = {"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD}
    return _do(CHANGE_PASSWORD, {"input": input}, account.session)(api)


async def _update_notification_settings(api: Api, account: Account) -> Act:
    input = {"expiryNotices": False}
    return _do(UPDATE_NOTIFICATION_SETTINGS, {"input": input}, account.session)(api)


async def _request_password_reset(api: Api, account: Account) -> Act:
    return _do(REQUEST_PASSWORD_RESET, {"input": {"email": account.email}}, None)(api)


async def _reset_password(api: Api, account: Account) -> Act:
    await api.query(REQUEST_PASSWORD_RESET, {"input": {"email": account.email}})
    token = await reset_token(account.email)
    input = {"token": token, "newPassword": NEW_PASSWORD}
    return _do(RESET_PASSWORD, {"input": input}, None)(api)


CREATE_WEBHOOK_ENDPOINT = """
mutation Create($input: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) {
    __typename ... on WebhookEndpointCreated { endpoint { id } }
  }
}
"""
WEBHOOK_URL = "https://93.184.215.14/hooks"


async def _endpoint(api: Api, account: Account) -> str:
    input = {"organizationId": account.organization_id, "url": WEBHOOK_URL, "events": ["*"]}
    data = await api.query(CREATE_WEBHOOK_ENDPOINT, {"input": input}, token=account.session)
    return str(data["createWebhookEndpoint"]["endpoint"]["id"])


async def _create_webhook_endpoint(api: Api, account: Account) -> Act:
    input = {"organizationId": account.organization_id, "url": WEBHOOK_URL, "events": ["*"]}
    return _do(CREATE_WEBHOOK_ENDPOINT, {"input": input}, account.session)(api)


def _on_endpoint(mutation: str, **extra: object) -> Setup:
    document = (
        f"mutation M($input: {mutation[0].upper()}{mutation[1:]}Input!) "
        f"{{ {mutation}(input: $input) {{ __typename }} }}"
    )

    async def setup(api: Api, account: Account) -> Act:
        input = {"id": await _endpoint(api, account), **extra}
        return _do(document, {"input": input}, account.session)(api)

    return setup


async def _retry_webhook_delivery(api: Api, account: Account) -> Act:
    sent = await api.query(
        "mutation T($id: ID!) { sendTestWebhook(input: {id: $id}) "
        "{ ... on TestWebhookSent { delivery { id } } } }",
        {"id": await _endpoint(api, account)},
        token=account.session,
    )
    input = {"id": sent["sendTestWebhook"]["delivery"]["id"]}
    document = (
        "mutation R($input: RetryWebhookDeliveryInput!) "
        "{ retryWebhookDelivery(input: $input) { __typename } }"
    )
    return _do(document, {"input": input}, account.session)(api)


MUTATIONS: dict[str, tuple[Setup, Trace]] = {
    "signUp": (
        _sign_up,
        Trace(audit=("organization.created", "api_key.created"), security=("user.signed_up",)),
    ),
    "signIn": (_sign_in, Trace(security=("user.signed_in",))),
    "signOut": (_sign_out, Trace(security=("user.signed_out",))),
    "endSession": (_end_session, Trace(security=("session.ended",))),
    "createOrganization": (
        _create_organization,
        Trace(audit=("organization.created", "api_key.created")),
    ),
    "createApiKey": (_create_api_key, Trace(audit=("api_key.created",))),
    "rollApiKey": (_roll_api_key, Trace(audit=("api_key.rolled",))),
    "renameApiKey": (_rename_api_key, Trace(audit=("api_key.updated",))),
    "updateApiKey": (_update_api_key, Trace(audit=("api_key.updated",))),
    "deleteApiKey": (_delete_api_key, Trace(audit=("api_key.deleted",))),
    "inviteMember": (_invite_member, Trace(audit=("member.invited",))),
    "acceptInvitation": (_accept_invitation, Trace(audit=("member.joined",))),
    "revokeInvitation": (_revoke_invitation, Trace(audit=("invitation.revoked",))),
    "changeMemberRole": (_change_member_role, Trace(audit=("member.role_changed",))),
    "removeMember": (_remove_member, Trace(audit=("member.removed",))),
    "leaveOrganization": (_leave_organization, Trace(audit=("member.left",))),
    "renameOrganization": (_rename_organization, Trace(audit=("organization.renamed",))),
    "updateLeakPolicy": (_update_leak_policy, Trace(audit=("organization.updated",))),
    "deleteOrganization": (_delete_organization, Trace(audit=("organization.deleted",))),
    "changePassword": (_change_password, Trace(security=("user.password_changed",))),
    "updateNotificationSettings": (
        _update_notification_settings,
        Trace(security=("user.notification_settings_changed",)),
    ),
    "requestPasswordReset": (
        _request_password_reset,
        Trace(security=("user.password_reset_requested",)),
    ),
    "resetPassword": (_reset_password, Trace(security=("user.password_reset",))),
    "createWebhookEndpoint": (
        _create_webhook_endpoint,
        Trace(audit=("webhook_endpoint.created",)),
    ),
    "updateWebhookEndpoint": (
        _on_endpoint("updateWebhookEndpoint", enabled=False),
        Trace(audit=("webhook_endpoint.updated",)),
    ),
    "deleteWebhookEndpoint": (
        _on_endpoint("deleteWebhookEndpoint"),
        Trace(audit=("webhook_endpoint.deleted",)),
    ),
    "rotateWebhookSecret": (
        _on_endpoint("rotateWebhookSecret"),
        Trace(audit=("webhook_endpoint.secret_rotated",)),
    ),
    "sendTestWebhook": (
        _on_endpoint("sendTestWebhook"),
        Trace(audit=("webhook_endpoint.tested",)),
    ),
    "retryWebhookDelivery": (
        _retry_webhook_delivery,
        Trace(audit=("webhook_delivery.retried",)),
    ),
}


def _mutation_names() -> list[str]:
    mutation = build_schema()._schema.mutation_type
    assert mutation is not None
    return sorted(mutation.fields)


def test_every_mutation_in_the_schema_is_in_the_table() -> None:
    unknown = set(_mutation_names()) - set(MUTATIONS)
    assert not unknown, (
        f"mutations that record nothing (add them here, with their events): {unknown}"
    )


@pytest.mark.parametrize("name", _mutation_names())
async def test_the_mutation_writes_its_events(api: Api, db: None, name: str) -> None:
    if name not in MUTATIONS:
        pytest.fail(f"{name} records no audit or security event")
    setup, trace = MUTATIONS[name]
    account = await api.sign_up()
    act = await setup(api, account)
    audit_before = set(await AuditEvent.all().values_list("id", flat=True))
    security_before = set(await SecurityEvent.all().values_list("id", flat=True))
    # when
    await act()
    # then
    written = await AuditEvent.exclude(id__in=audit_before).order_by("organization_id", "sequence")
    assert tuple(event.action for event in written) == trace.audit, name
    secured = await SecurityEvent.exclude(id__in=security_before).order_by("id")
    assert tuple(event.action for event in secured) == trace.security, name
    assert trace.audit or trace.security, f"{name} must leave a trace"
