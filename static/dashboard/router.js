// Deep links: the address names the organization and the page, so a reload keeps them and the
// back button works. /orgs/<id>/keys is an organization's keys (with ?search=&type=&status=),
// /orgs/<id>/keys/<keyId> one key. The server answers both paths with the dashboard.

const listeners = new Set();

/** { organizationId, keyId, params, page } of the current address; nulls where it names none.
 * `page` is "keys", "activity" (/orgs/<id>/activity) or "account" (/account). */
export function currentRoute() {
  const match = location.pathname.match(/^\/orgs\/([^/]+)\/keys(?:\/([^/]+))?\/?$/);
  const activity = location.pathname.match(/^\/orgs\/([^/]+)\/activity\/?$/);
  const account = /^\/account\/?$/.test(location.pathname);
  return {
    organizationId: match
      ? decodeURIComponent(match[1])
      : activity
        ? decodeURIComponent(activity[1])
        : null,
    keyId: match?.[2] ? decodeURIComponent(match[2]) : null,
    params: new URLSearchParams(location.search),
    page: activity ? "activity" : account ? "account" : "keys",
  };
}

export const activityPath = (organizationId) =>
  `/orgs/${encodeURIComponent(organizationId)}/activity`;
export const ACCOUNT_PATH = "/account";

export const keysPath = (organizationId) => `/orgs/${encodeURIComponent(organizationId)}/keys`;
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
