// The API keys page: search and filters (answered by the server), the keys of an organization
// as a table (cards on a phone), New API key, and each key's "…" menu. With no key at all it
// says what keys are for and offers to create one.

import { KEYS, can, graphql } from "./api.js";
import { focusByName } from "./dialog.js";
import { h, time, tokenBox, until } from "./dom.js";
import { deleteKey, newKey, renameKey, rollKey } from "./key_actions.js";
import { menuButton } from "./menu.js";
import { keyPath, keysPath, linkTo, redraw, rewrite } from "./router.js";
import { revokedBanners } from "./usage.js";

export const TYPE_LABELS = { PUBLIC: "Public", SECRET: "Secret" };
export const STATUS_LABELS = { ACTIVE: "Active", ROLLED: "Rolled", EXPIRED: "Expired" };
const SEARCH_DELAY_MS = 250;

let carriedNotice = null; // shown once on the next keys page drawn, e.g. "… deleted"

/** Show a notice on the next keys page drawn (the key page's Delete goes back to the list). */
export function noticeForNextPage(text) {
  carriedNotice = text;
}

function filtersFrom(params) {
  return {
    search: params.get("search") ?? "",
    type: TYPE_LABELS[params.get("type")] ? params.get("type") : "",
    status: STATUS_LABELS[params.get("status")] ? params.get("status") : "",
  };
}

const variables = (organizationId, filters, after = null) => ({
  id: organizationId,
  after,
  search: filters.search.trim() || null,
  types: filters.type ? [filters.type] : null,
  statuses: filters.status ? [filters.status] : null,
});

export async function showKeys(main, organizationId, params = new URLSearchParams()) {
  const filters = filtersFrom(params);
  main.replaceChildren(h("p", { class: "loading" }, "Loading API keys…"));
  let organization;
  try {
    ({ organization } = await graphql(KEYS, variables(organizationId, filters)));
  } catch (error) {
    if (error.code === "UNAUTHENTICATED") return;
    main.replaceChildren(
      h("p", { class: "error", role: "alert" }, `The keys did not load: ${error.message}`),
      h(
        "button",
        { type: "button", onclick: () => showKeys(main, organizationId, params) },
        "Try again",
      ),
    );
    return;
  }
  if (!organization) {
    main.replaceChildren(h("p", { class: "error" }, "This organization is not available to you."));
    return;
  }
  const canManage = can(organization, "MANAGE_KEYS");
  const results = h("div", { class: "results" });
  const noticeSlot = h("div", {});
  const page = {
    organization,
    notice: carriedNotice,
    filters,
    async load() {
      // a dialog that outlived its page (resumed after signing in again) redraws the current one
      if (!results.isConnected) return redraw();
      const answer = await graphql(KEYS, variables(organizationId, page.filters));
      if (!answer.organization) return;
      page.organization = answer.organization;
      drawResults(page, results, noticeSlot, canManage, answer.organization.apiKeys);
    },
    afterDelete: () => page.load(),
  };
  carriedNotice = null;
  const newKeyButton = h(
    "button",
    { type: "button", class: "primary", "data-focus": "new-key", onclick: () => newKey(page) },
    "New API key",
  );
  const parts = [
    h(
      "div",
      { class: "page-head" },
      h(
        "div",
        {},
        h("h1", { tabindex: -1, "data-focus": "main-heading" }, "API keys"),
        h(
          "p",
          { class: "lead" },
          h("span", { class: "wrap" }, `Keys identify ${organization.name}'s requests. `),
          "Public keys may be published in web pages and apps; keep secret keys on your servers, like passwords.",
        ),
      ),
      canManage && newKeyButton,
    ),
    noticeSlot,
    !canManage && h("p", { class: "hint" }, "Owners and admins create, roll and delete keys."),
    filterBar(page, results, noticeSlot, canManage),
    results,
  ];
  main.replaceChildren(...parts.filter(Boolean));
  drawResults(page, results, noticeSlot, canManage, organization.apiKeys);
  const banners = await revokedBanners(organizationId);
  if (results.isConnected) results.before(...banners);
}

function filterBar(page, results, noticeSlot, canManage) {
  const { organization, filters } = page;
  let timer = null;
  const apply = () => {
    filters.search = search.value;
    filters.type = type.value;
    filters.status = status.value;
    const query = new URLSearchParams();
    if (filters.search.trim()) query.set("search", filters.search.trim());
    if (filters.type) query.set("type", filters.type);
    if (filters.status) query.set("status", filters.status);
    const suffix = query.toString() ? `?${query}` : "";
    rewrite(keysPath(organization.id) + suffix);
    page.load().catch((error) => {
      if (error.code !== "UNAUTHENTICATED") {
        results.replaceChildren(h("p", { class: "error", role: "alert" }, error.message));
      }
    });
  };
  const search = h("input", {
    type: "search",
    id: "key-search",
    value: filters.search,
    placeholder: "Name or start, e.g. sk_4fQz",
    autocomplete: "off",
    oninput: () => {
      clearTimeout(timer);
      timer = setTimeout(apply, SEARCH_DELAY_MS);
    },
  });
  const choice = (id, label, options, value) =>
    h(
      "div",
      { class: "field" },
      h("label", { for: id }, label),
      h(
        "select",
        { id, onchange: apply },
        h("option", { value: "" }, "All"),
        Object.entries(options).map(([key, text]) =>
          h("option", { value: key, selected: key === value }, text),
        ),
      ),
    );
  const typeField = choice("key-type", "Type", TYPE_LABELS, filters.type);
  const statusField = choice("key-status", "Status", STATUS_LABELS, filters.status);
  const type = typeField.querySelector("select");
  const status = statusField.querySelector("select");
  const bar = h(
    "div",
    { class: "filters", role: "search", "aria-label": "Find keys" },
    h(
      "div",
      { class: "field search" },
      h("label", { for: "key-search" }, "Search"),
      search,
    ),
    typeField,
    statusField,
  );
  bar.clear = () => {
    search.value = "";
    type.value = "";
    status.value = "";
    apply();
    search.focus();
  };
  page.filterBar = bar;
  return bar;
}

const filtering = (filters) => Boolean(filters.search.trim() || filters.type || filters.status);

function drawResults(page, results, noticeSlot, canManage, connection) {
  // focus inside the results (a "…" or one of its menu's items) survives a redraw by name
  const active = document.activeElement;
  const focused =
    results.contains(active) &&
    (active.dataset.focus ?? active.closest(".actions")?.querySelector("[data-focus]")?.dataset.focus);
  const { organization, filters } = page;
  noticeSlot.replaceChildren(
    ...(page.notice ? [h("p", { class: "notice", role: "status" }, page.notice)] : []),
  );
  page.notice = null;
  const keys = connection.edges.map((e) => e.node);
  const empty = connection.totalCount === 0 && !filtering(filters);
  page.filterBar.hidden = empty;
  document.querySelector('.page-head [data-focus="new-key"]')?.toggleAttribute("hidden", empty);
  if (empty) {
    results.replaceChildren(emptyState(page, canManage));
  } else if (keys.length === 0) {
    results.replaceChildren(
      h(
        "div",
        { class: "card empty" },
        h("h2", {}, "No keys match"),
        h("p", {}, "No key of this organization has that name, start, type and status."),
        h("button", { type: "button", onclick: () => page.filterBar.clear() }, "Clear filters"),
      ),
    );
  } else {
    results.replaceChildren(...table(page, keys, connection, canManage));
  }
  if (focused) focusByName(focused);
  return organization;
}

function emptyState(page, canManage) {
  return h(
    "div",
    { class: "card empty" },
    h("h2", {}, "No API keys yet"),
    h(
      "p",
      {},
      "An API key lets an application act for this organization: your servers use a secret ",
      "key, your web pages and apps a public one. Create one for each application, so you can ",
      "roll or delete it alone.",
    ),
    canManage
      ? h(
          "button",
          {
            type: "button",
            class: "primary",
            "data-focus": "new-key",
            onclick: () => newKey(page),
          },
          "New API key",
        )
      : h("p", { class: "hint" }, "Ask an owner or admin of the organization to create one."),
  );
}

function table(page, keys, connection, canManage) {
  const { organization } = page;
  const headings = ["Name", "Type", "Token", "Status", "Created", "Expires", "Last used"];
  const body = h(
    "tbody",
    {},
    keys.map((key) => row(key, page, canManage)),
  );
  let pageInfo = connection.pageInfo;
  const more = h("button", { type: "button", class: "ghost" }, "Show more keys");
  const moreError = h("span", { class: "error", role: "alert" });
  more.addEventListener("click", async () => {
    more.disabled = true;
    moreError.textContent = "";
    try {
      const next = await graphql(KEYS, {
        ...variables(organization.id, page.filters, pageInfo.endCursor),
      });
      const added = next.organization.apiKeys.edges.map((e) => e.node);
      pageInfo = next.organization.apiKeys.pageInfo;
      body.append(...added.map((key) => row(key, page, canManage)));
      more.hidden = !pageInfo.hasNextPage;
      if (more.hidden) body.lastElementChild?.querySelector("a, button")?.focus();
    } catch (error) {
      moreError.textContent = error.message;
    } finally {
      more.disabled = false;
    }
  });
  more.hidden = !pageInfo.hasNextPage;
  const total = connection.totalCount;
  const counted = total === 1 ? "1 key" : `${total} keys`;
  return [
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { class: "keys" },
        h("caption", { class: "visually-hidden" }, `API keys of ${organization.name}`),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            headings.map((title) => h("th", { scope: "col" }, title)),
            h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Actions")),
          ),
        ),
        body,
      ),
    ),
    h(
      "p",
      { class: "count" },
      filtering(page.filters) ? `${counted} match` : counted,
      " ",
      more,
      moreError,
    ),
  ];
}

function row(key, page, canManage) {
  const path = keyPath(page.organization.id, key.id);
  return h(
    "tr",
    { "data-key-id": key.id, "data-status": key.status },
    h(
      "th",
      { scope: "row" },
      linkTo(h, path, { class: "name" }, key.name),
      key.isDefault && h("span", { class: "badge" }, "Default"),
    ),
    h(
      "td",
      { class: "type-cell" },
      h("span", { class: `type type-${key.type.toLowerCase()}` }, TYPE_LABELS[key.type]),
    ),
    h(
      "td",
      { class: "token-cell", "data-label": "Token" },
      key.token
        ? tokenBox(key.token, { label: `token of ${key.name}` })
        : h("code", { class: "start" }, `${key.start}…`),
    ),
    h("td", { class: "status-cell" }, status(key)),
    h("td", { class: "created-cell", "data-label": "Created" }, time(key.createdAt, { withTime: false })),
    h("td", { class: "expires-cell", "data-label": "Expires" }, time(key.expiresAt)),
    h("td", { class: "used-cell", "data-label": "Last used" }, time(key.lastUsedAt)),
    h("td", { class: "actions-cell" }, canManage && keyMenu(key, page)),
  );
}

export function status(key) {
  const pill = h(
    "span",
    { class: `status status-${key.status.toLowerCase()}` },
    STATUS_LABELS[key.status],
  );
  if (key.status !== "ROLLED") return pill;
  const replacement = key.replacedBy ? `, replaced by ${key.replacedBy.start}…` : "";
  return h(
    "span",
    {},
    pill,
    h("span", { class: "until" }, `works until ${until(key.expiresAt)}${replacement}`),
  );
}

/** The "…" menu of a row; after a delete, focus goes to the next row's "…" (or the one before). */
function keyMenu(key, page) {
  return menuButton({
    label: `Actions for ${key.name}`,
    focusName: `more:${key.id}`,
    items: [
      { label: "Rename", action: () => renameKey(key, page) },
      {
        label: "Roll",
        action: () => rollKey(key, page),
        disabled: key.status === "ACTIVE" ? null : "Only an active key can be rolled.",
      },
      {
        label: "Delete",
        danger: true,
        action: () => {
          const here = document.querySelector(`tr[data-key-id="${CSS.escape(key.id)}"]`);
          const near = [here?.nextElementSibling, here?.previousElementSibling]
            .map((other) => other?.dataset.keyId)
            .filter(Boolean)
            .map((id) => `more:${id}`);
          deleteKey(key, page, { returnFocus: [...near, "new-key", "main-heading"] });
        },
      },
    ],
  });
}
