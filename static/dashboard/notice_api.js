// The GraphQL documents of the Account page's notification settings and of the Webhooks page.
// Kept apart from api.js, whose graphql() and expect() they use.

const ERROR = "... on Error { message }";
const ERRORS = `${ERROR} ... on InvalidInput { field problems { field message } }`;

export const NOTIFICATION_SETTINGS = `query NotificationSettings {
  me { id notificationSettings { expiryNotices } }
}`;

export const UPDATE_NOTIFICATION_SETTINGS = `mutation UpdateNotificationSettings(
  $input: UpdateNotificationSettingsInput!
) {
  updateNotificationSettings(input: $input) {
    __typename ... on NotificationSettingsUpdated { notificationSettings { expiryNotices } }
    ${ERRORS}
  }
}`;

const DELIVERY = `id eventId eventType status attempts lastAttemptAt nextAttemptAt
  lastResponseStatus lastError`;
const ENDPOINT = `id url events enabled disabledReason createdAt
  deliveries(first: 10) { totalCount edges { node { ${DELIVERY} } } }`;

export const WEBHOOKS = `query Webhooks($id: ID!) {
  organization(id: $id) { id name viewerPermissions webhookEndpoints { ${ENDPOINT} } }
}`;

export const CREATE_WEBHOOK_ENDPOINT = `mutation CreateWebhookEndpoint(
  $input: CreateWebhookEndpointInput!
) {
  createWebhookEndpoint(input: $input) {
    __typename ... on WebhookEndpointCreated { secret endpoint { ${ENDPOINT} } } ${ERRORS}
  }
}`;

export const UPDATE_WEBHOOK_ENDPOINT = `mutation UpdateWebhookEndpoint(
  $input: UpdateWebhookEndpointInput!
) {
  updateWebhookEndpoint(input: $input) {
    __typename ... on WebhookEndpointUpdated { endpoint { ${ENDPOINT} } } ${ERRORS}
  }
}`;

export const DELETE_WEBHOOK_ENDPOINT = `mutation DeleteWebhookEndpoint(
  $input: DeleteWebhookEndpointInput!
) {
  deleteWebhookEndpoint(input: $input) {
    __typename ... on WebhookEndpointDeleted { deletedWebhookEndpointId } ${ERROR}
  }
}`;

export const ROTATE_WEBHOOK_SECRET = `mutation RotateWebhookSecret($input: RotateWebhookSecretInput!) {
  rotateWebhookSecret(input: $input) {
    __typename ... on WebhookSecretRotated { secret endpoint { id } } ${ERROR}
  }
}`;

export const SEND_TEST_WEBHOOK = `mutation SendTestWebhook($input: SendTestWebhookInput!) {
  sendTestWebhook(input: $input) {
    __typename ... on TestWebhookSent { delivery { ${DELIVERY} } } ${ERROR}
  }
}`;

export const RETRY_WEBHOOK_DELIVERY = `mutation RetryWebhookDelivery(
  $input: RetryWebhookDeliveryInput!
) {
  retryWebhookDelivery(input: $input) {
    __typename ... on WebhookDeliveryRetried { delivery { ${DELIVERY} } } ${ERROR}
  }
}`;
