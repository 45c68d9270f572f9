// The dashboard's only way to keyward: the public GraphQL API at /graphql, with the session
// token as `Authorization: Bearer`. The token lives in sessionStorage: it survives a reload of
// this tab, is gone when the tab closes, is never shared with other tabs, and is never sent
// by the browser on its own (no cookie, so no CSRF). The CSP (script-src 'self') is what keeps
// other scripts from reading it. Secret API-key tokens are never stored anywhere.

const SESSION = "keyward.session";
const ORGANIZATION = "keyward.organization";

export const session = {
  token: () => sessionStorage.getItem(SESSION),
  organizationId: () => sessionStorage.getItem(ORGANIZATION),
  start(token) {
    sessionStorage.setItem(SESSION, token);
  },
  chooseOrganization(id) {
    sessionStorage.setItem(ORGANIZATION, id);
  },
  end() {
    sessionStorage.removeItem(SESSION);
    sessionStorage.removeItem(ORGANIZATION);
  },
};

/**
 * A failure to show to the person: `field` names the input it belongs to, when there is one;
 * `problems` lists every bad field of an InvalidInput; `retryAfterSeconds` comes with a throttle.
 */
export class ApiError extends Error {
  constructor(message, { code = "ERROR", field = null, problems = [], retryAfterSeconds = null } = {}) {
    super(message);
    this.code = code;
    this.field = field;
    this.problems = problems;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

let sessionEnded = () => {};

/** Called when keyward refuses the session token (ended, expired): back to sign-in. */
export function onSessionEnded(callback) {
  sessionEnded = callback;
}

export async function graphql(query, variables = {}) {
  const headers = {
    "Content-Type": "application/json",
    Accept: "application/graphql-response+json, application/json",
  };
  const token = session.token();
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch("/graphql", {
      method: "POST",
      headers,
      body: JSON.stringify({ query, variables }),
      cache: "no-store",
      credentials: "omit",
    });
  } catch {
    throw new ApiError("Could not reach keyward. Check the connection and try again.", {
      code: "NETWORK",
    });
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    throw new ApiError(`keyward answered ${response.status} ${response.statusText}.`, {
      code: "HTTP",
    });
  }
  const error = body?.errors?.[0];
  if (response.status === 401 || error?.extensions?.code === "UNAUTHENTICATED") {
    if (token) {
      session.end();
      sessionEnded("Your session has ended. Sign in again.");
    }
    throw new ApiError(error?.message ?? "Sign in first.", { code: "UNAUTHENTICATED" });
  }
  if (error) {
    throw new ApiError(error.message, { code: error.extensions?.code ?? "ERROR" });
  }
  if (!response.ok || !body?.data) {
    throw new ApiError(`keyward answered ${response.status} ${response.statusText}.`, {
      code: "HTTP",
    });
  }
  return body.data;
}

/**
 * A mutation's union result: the success type, or its error type raised as an ApiError.
 * `fields` names the input an error type is about when the API does not (EmailTaken: "email").
 */
export function expect(result, typename, fields = {}) {
  if (result.__typename === typename) return result;
  throw new ApiError(result.message ?? `Unexpected answer: ${result.__typename}`, {
    code: result.__typename,
    field: result.field ?? fields[result.__typename] ?? null,
    problems: result.problems ?? [],
    retryAfterSeconds: result.retryAfterSeconds ?? null,
  });
}

/** Whether the viewer may do `permission` in `organization`, as the API says (not a role table). */
export const can = (organization, permission) =>
  (organization?.viewerPermissions ?? []).includes(permission);

const RESTRICTIONS = "allowedCidrs allowedOrigins restrictionMode lastDenial { at reason address origin }";
const KEY = `
  fragment Key on ApiKey {
    id name type status isDefault start token createdAt expiresAt rolledAt lastUsedAt
    replacedBy { id name start }
  }`;
// What the dashboard needs to know of an organization: what the viewer may do there, and the
// server's bounds for a roll's grace period.
const ORGANIZATION_FIELDS = `
  fragment Organization on Organization {
    id name createdAt viewerPermissions rollGracePeriodSeconds maxRollGracePeriodSeconds
  }`;
const ERROR = "... on Error { message }";
const ERRORS = `${ERROR} ... on InvalidInput { field problems { field message } }`;
const VIEWER = "user { id email organizations(first: 100) { edges { node { ...Organization } } } }";

export const ME = `query Me {
  me { id email organizations(first: 100) { edges { node { ...Organization } } } }
} ${ORGANIZATION_FIELDS}`;

export const KEYS = `query Keys(
  $id: ID!, $after: String, $search: String, $types: [ApiKeyType!], $statuses: [ApiKeyStatus!]
) {
  organization(id: $id) {
    ...Organization
    apiKeys(first: 50, after: $after, search: $search, types: $types, statuses: $statuses) {
      totalCount pageInfo { hasNextPage endCursor } edges { node { ...Key } }
    }
  }
} ${KEY} ${ORGANIZATION_FIELDS}`;

export const KEY_PAGE = `query KeyPage($organizationId: ID!, $id: ID!) {
  organization(id: $organizationId) { ...Organization }
  apiKey(id: $id) {
    ...Key createdByKey { id name start } ${RESTRICTIONS}
    leaks { url source reporter revoked foundAt }
  }
} ${KEY} ${ORGANIZATION_FIELDS}`;

export const SIGN_UP = `mutation SignUp($input: SignUpInput!) {
  signUp(input: $input) { __typename ... on SignedIn { sessionToken ${VIEWER} } ${ERRORS} }
} ${ORGANIZATION_FIELDS}`;

export const SIGN_IN = `mutation SignIn($input: SignInInput!) {
  signIn(input: $input) {
    __typename ... on SignedIn { sessionToken ${VIEWER} }
    ... on TooManyAttempts { retryAfterSeconds } ${ERROR}
  }
} ${ORGANIZATION_FIELDS}`;

export const SIGN_OUT = `mutation SignOut { signOut }`;

export const CREATE_ORGANIZATION = `mutation CreateOrganization($input: CreateOrganizationInput!) {
  createOrganization(input: $input) {
    __typename ... on OrganizationCreated { organization { ...Organization } } ${ERRORS}
  }
} ${ORGANIZATION_FIELDS}`;

export const CREATE_API_KEY = `mutation CreateApiKey($input: CreateApiKeyInput!) {
  createApiKey(input: $input) {
    __typename ... on ApiKeyCreated { token apiKey { ...Key } } ${ERRORS}
  }
} ${KEY}`;

export const ROLL_API_KEY = `mutation RollApiKey($input: RollApiKeyInput!) {
  rollApiKey(input: $input) {
    __typename
    ... on ApiKeyRolled { token apiKey { ...Key } rolledApiKey { ...Key } }
    ${ERRORS}
  }
} ${KEY}`;

export const DELETE_API_KEY = `mutation DeleteApiKey($input: DeleteApiKeyInput!) {
  deleteApiKey(input: $input) { __typename ... on ApiKeyDeleted { deletedApiKeyId } ${ERROR} }
}`;

export const UPDATE_API_KEY = `mutation UpdateApiKey($input: UpdateApiKeyInput!) {
  updateApiKey(input: $input) {
    __typename ... on ApiKeyUpdated { apiKey { ...Key ${RESTRICTIONS} } } ${ERRORS}
  }
} ${KEY}`;

export const RENAME_API_KEY = `mutation RenameApiKey($input: RenameApiKeyInput!) {
  renameApiKey(input: $input) { __typename ... on ApiKeyRenamed { apiKey { ...Key } } ${ERRORS} }
} ${KEY}`;
