// Deep links: the address names the organization and the page, so a reload keeps them and the
// back button works. /orgs/<id>/keys is an organization's keys (with ?search=&type=&status=),
// /orgs/<id>/keys/<keyId> one key, /orgs/<id>/members its members, /orgs/<id>/settings its
// General settings, /orgs/<id>/webhooks its webhook endpoints, /account the signed-in person's
// own. The server answers each of these paths
// with the dashboard (web/pages.py).

const listeners = new Set();

/**
 * { page, organizationId, keyId, params } of the current address: `page` is "keys" (also for
 * an address that names no page), "members", "settings", "activity", "webhooks" or "account"; nulls where it names none.
 */
export function currentRoute() {
  const params = new URLSearchParams(location.search);
  if (/^\/account\/?$/.test(location.pathname)) {
    return { page: "account", organizationId: null, keyId: null, params };
  }
  const match = location.pathname.match(
    /^\/orgs\/([^/]+)\/(?:keys(?:\/([^/]+))?|(members|settings|activity|webhooks))\/?$/,
  );
  return {
    page: match?.[3] ?? "keys",
    organizationId: match ? decodeURIComponent(match[1]) : null,
    keyId: match?.[2] ? decodeURIComponent(match[2]) : null,
    params,
  };
}

const organizationPath = (organizationId, page) =>
  `/orgs/${encodeURIComponent(organizationId)}/${page}`;
export const keysPath = (organizationId) => organizationPath(organizationId, "keys");
export const membersPath = (organizationId) => organizationPath(organizationId, "members");
export const settingsPath = (organizationId) => organizationPath(organizationId, "settings");
export const activityPath = (organizationId) => organizationPath(organizationId, "activity");
export const webhooksPath = (organizationId) => organizationPath(organizationId, "webhooks");
export const ACCOUNT_PATH = "/account";
export const keyPath = (organizationId, keyId) =>
  `${keysPath(organizationId)}/${encodeURIComponent(keyId)}`;

/** Go to `path` as a new history entry (or in place with `replace`); resolves once shown. */
export function navigate(path, { replace = false } = {}) {
  if (path !== location.pathname + location.search) {
    history[replace ? "replaceState" : "pushState"](null, "", path);
  }
  return Promise.all([...listeners].map((listener) => listener(currentRoute())));
}

/** Show the current address again, from the API. */
export const redraw = () => navigate(location.pathname + location.search, { replace: true });

/** Change the address without showing anything new (a filter typed into the search box). */
export function rewrite(path) {
  history.replaceState(null, "", path);
}

export function onRoute(listener) {
  listeners.add(listener);
}

addEventListener("popstate", () => {
  for (const listener of listeners) listener(currentRoute());
});

/** A link that moves within the dashboard without reloading the page. */
export function linkTo(h, path, attributes, ...children) {
  return h(
    "a",
    {
      href: path,
      ...attributes,
      onclick: (event) => {
        if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
        event.preventDefault();
        navigate(path);
      },
    },
    ...children,
  );
}
