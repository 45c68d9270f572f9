"""GraphQL documents and helpers for the team and account tests: invitations, members, roles,
organization settings, passwords; and a real SMTP server (aiosmtpd) in the test process."""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope
from aiosmtpd.smtp import Session as SmtpSession

from tests.harness import Account, Api

INVITE_MEMBER = """
mutation InviteMember($input: InviteMemberInput!) {
  inviteMember(input: $input) {
    __typename
    ... on MemberInvited {
      invitationToken invitationLink mailed
      invitation { id email role status createdAt expiresAt invitedBy { id email } }
    }
    ... on Error { message }
    ... on InvalidInput { field }
  }
}
"""

ACCEPT_INVITATION = """
mutation AcceptInvitation($input: AcceptInvitationInput!) {
  acceptInvitation(input: $input) {
    __typename
    ... on InvitationAccepted { role organization { id name viewerRole viewerPermissions } }
    ... on Error { message }
  }
}
"""

REVOKE_INVITATION = """
mutation RevokeInvitation($input: RevokeInvitationInput!) {
  revokeInvitation(input: $input) {
    __typename
    ... on InvitationRevoked { invitation { id status } }
    ... on Error { message }
  }
}
"""

CHANGE_MEMBER_ROLE = """
mutation ChangeMemberRole($input: ChangeMemberRoleInput!) {
  changeMemberRole(input: $input) {
    __typename
    ... on MemberRoleChanged { member { role user { id email } } }
    ... on Error { message }
  }
}
"""

REMOVE_MEMBER = """
mutation RemoveMember($input: RemoveMemberInput!) {
  removeMember(input: $input) {
    __typename
    ... on MemberRemoved { userId }
    ... on Error { message }
  }
}
"""

LEAVE_ORGANIZATION = """
mutation LeaveOrganization($input: LeaveOrganizationInput!) {
  leaveOrganization(input: $input) {
    __typename
    ... on OrganizationLeft { organizationId }
    ... on Error { message }
  }
}
"""

RENAME_ORGANIZATION = """
mutation RenameOrganization($input: RenameOrganizationInput!) {
  renameOrganization(input: $input) {
    __typename
    ... on OrganizationRenamed { organization { id name } }
    ... on Error { message }
    ... on InvalidInput { field }
  }
}
"""

DELETE_ORGANIZATION = """
mutation DeleteOrganization($input: DeleteOrganizationInput!) {
  deleteOrganization(input: $input) {
    __typename
    ... on OrganizationDeleted { organizationId }
    ... on Error { message }
    ... on InvalidInput { field }
  }
}
"""

CHANGE_PASSWORD = """
mutation ChangePassword($input: ChangePasswordInput!) {
  changePassword(input: $input) {
    __typename
    ... on PasswordChanged { endedSessions }
    ... on Error { message }
    ... on InvalidInput { field }
  }
}
"""

REQUEST_PASSWORD_RESET = """
mutation RequestPasswordReset($input: RequestPasswordResetInput!) {
  requestPasswordReset(input: $input) {
    __typename
    ... on PasswordResetRequested { email }
    ... on TooManyAttempts { retryAfterSeconds }
  }
}
"""

RESET_PASSWORD = """
mutation ResetPassword($input: ResetPasswordInput!) {
  resetPassword(input: $input) {
    __typename
    ... on PasswordReset { endedSessions }
    ... on Error { message }
    ... on InvalidInput { field }
  }
}
"""

MEMBERS = """
query Members($id: ID, $first: Int, $after: String, $status: InvitationStatus) {
  organization(id: $id) {
    id viewerRole viewerPermissions
    members(first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor }
      edges { cursor node { role joinedAt user { id email organizations { totalCount } } } }
    }
    invitations(status: $status) { id email role status invitedBy { id } }
  }
}
"""


async def invite(
    api: Api, inviter: Account, email: str, role: str = "MEMBER", organization_id: str | None = None
) -> dict[str, Any]:
    data = await api.query(
        INVITE_MEMBER,
        {
            "input": {
                "organizationId": organization_id or inviter.organization_id,
                "email": email,
                "role": role,
            }
        },
        token=inviter.session,
    )
    return data["inviteMember"]  # type: ignore[no-any-return]


async def accept(api: Api, session: str, token: str) -> dict[str, Any]:
    data = await api.query(ACCEPT_INVITATION, {"input": {"token": token}}, token=session)
    return data["acceptInvitation"]  # type: ignore[no-any-return]


async def join(api: Api, owner: Account, role: str = "MEMBER") -> Account:
    """A new account that joined `owner`'s organization as `role`, through an invitation; its
    `organization_id` is that organization (not the one it founded at sign-up)."""
    account = await api.sign_up()
    invited = await invite(api, owner, account.email, role)
    assert invited["__typename"] == "MemberInvited", invited
    accepted = await accept(api, account.session, invited["invitationToken"])
    assert accepted["__typename"] == "InvitationAccepted", accepted
    account.organization_id = owner.organization_id
    return account


async def members_of(api: Api, token: str, organization_id: str) -> dict[str, str]:
    """user id → role, as `token` sees the organization's members."""
    data = await api.query(MEMBERS, {"id": organization_id}, token=token)
    edges = data["organization"]["members"]["edges"]
    return {edge["node"]["user"]["id"]: edge["node"]["role"] for edge in edges}


async def change_role(
    api: Api, actor: Account, target: Account, role: str, organization_id: str | None = None
) -> dict[str, Any]:
    variables = {
        "input": {
            "organizationId": organization_id or actor.organization_id,
            "userId": target.user_id,
            "role": role,
        }
    }
    status, body = await api.raw(CHANGE_MEMBER_ROLE, variables, token=actor.session)
    assert status == 200, body
    if "errors" in body:
        return {"__typename": body["errors"][0]["extensions"]["code"]}
    return body["data"]["changeMemberRole"]  # type: ignore[no-any-return]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Inbox:
    """What a real SMTP server received."""

    messages: list[Message] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(  # aiosmtpd calls its hooks by these names
        self, server: SMTP, session: SmtpSession, envelope: Envelope
    ) -> str:
        content = envelope.original_content or b""
        with self.lock:
            self.messages.append(message_from_bytes(content))
        return "250 OK"

    def received(self) -> list[Message]:
        with self.lock:
            return list(self.messages)


class SmtpServer:
    """aiosmtpd on a loopback port, started and stopped by the test (in its own thread)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.inbox = Inbox()
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


def body_of(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()
