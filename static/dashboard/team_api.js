// The GraphQL documents of the team and account pages (members, invitations, organization
// settings, passwords). Kept apart from api.js, whose graphql() and expect() they use.

const ERROR = "... on Error { message }";
const ERRORS = `${ERROR} ... on InvalidInput { field }`;
const INVITATION = "id email role status createdAt expiresAt";

export const MEMBERS = `query Members($id: ID!) {
  organization(id: $id) {
    id name viewerRole viewerPermissions
    members(first: 100) { totalCount edges { node { role joinedAt user { id email } } } }
    invitations { ${INVITATION} }
  }
}`;

export const ORGANIZATION_SETTINGS = `query OrganizationSettings($id: ID!) {
  organization(id: $id) { id name viewerRole viewerPermissions leakPolicy }
}`;

export const UPDATE_LEAK_POLICY = `mutation UpdateLeakPolicy($input: UpdateLeakPolicyInput!) {
  updateLeakPolicy(input: $input) {
    __typename ... on LeakPolicyUpdated { organization { id leakPolicy } } ${ERROR}
  }
}`;

export const INVITE_MEMBER = `mutation InviteMember($input: InviteMemberInput!) {
  inviteMember(input: $input) {
    __typename
    ... on MemberInvited { invitationLink mailed invitation { ${INVITATION} } }
    ${ERRORS}
  }
}`;

export const ACCEPT_INVITATION = `mutation AcceptInvitation($input: AcceptInvitationInput!) {
  acceptInvitation(input: $input) {
    __typename ... on InvitationAccepted { role organization { id name viewerRole } } ${ERROR}
  }
}`;

export const REVOKE_INVITATION = `mutation RevokeInvitation($input: RevokeInvitationInput!) {
  revokeInvitation(input: $input) {
    __typename ... on InvitationRevoked { invitation { id } } ${ERROR}
  }
}`;

export const CHANGE_MEMBER_ROLE = `mutation ChangeMemberRole($input: ChangeMemberRoleInput!) {
  changeMemberRole(input: $input) {
    __typename ... on MemberRoleChanged { member { role } } ${ERROR}
  }
}`;

export const REMOVE_MEMBER = `mutation RemoveMember($input: RemoveMemberInput!) {
  removeMember(input: $input) { __typename ... on MemberRemoved { userId } ${ERROR} }
}`;

export const LEAVE_ORGANIZATION = `mutation LeaveOrganization($input: LeaveOrganizationInput!) {
  leaveOrganization(input: $input) {
    __typename ... on OrganizationLeft { organizationId } ${ERROR}
  }
}`;

export const RENAME_ORGANIZATION = `mutation RenameOrganization($input: RenameOrganizationInput!) {
  renameOrganization(input: $input) {
    __typename ... on OrganizationRenamed { organization { id name } } ${ERRORS}
  }
}`;

export const DELETE_ORGANIZATION = `mutation DeleteOrganization($input: DeleteOrganizationInput!) {
  deleteOrganization(input: $input) {
    __typename ... on OrganizationDeleted { organizationId } ${ERRORS}
  }
}`;

export const CHANGE_PASSWORD = `mutation ChangePassword($input: ChangePasswordInput!) {
  changePassword(input: $input) {
    __typename ... on PasswordChanged { endedSessions } ${ERRORS}
  }
}`;

export const REQUEST_PASSWORD_RESET = `
mutation RequestPasswordReset($input: RequestPasswordResetInput!) {
  requestPasswordReset(input: $input) {
    __typename ... on PasswordResetRequested { email } ${ERROR}
  }
}`;

export const RESET_PASSWORD = `mutation ResetPassword($input: ResetPasswordInput!) {
  resetPassword(input: $input) { __typename ... on PasswordReset { endedSessions } ${ERRORS} }
}`;
