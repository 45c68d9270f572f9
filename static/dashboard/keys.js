// The API keys page: the table of an organization's keys, New API key, and each key's "…"
// menu with Roll and Delete. A secret token is shown once, in its dialog, and never kept.

import { CREATE_API_KEY, DELETE_API_KEY, KEYS, ROLL_API_KEY, expect, graphql } from "./api.js";
import { openDialog } from "./dialog.js";
import { duration, field, formError, h, onSubmit, time, tokenBox, until } from "./dom.js";
import { revokedBanners, showKeyDetail } from "./usage.js";

const MAX_GRACE_HOURS = 168;
const TYPE_LABELS = { PUBLIC: "Public", SECRET: "Secret" };
const STATUS_LABELS = { ACTIVE: "Active", ROLLED: "Rolled", EXPIRED: "Expired" };

let notice = null; // shown once above the table after the next load, e.g. "… deleted"

export async function showKeys(main, organizationId) {
  const load = () => showKeys(main, organizationId);
  if (!main.querySelector("table")) {
    main.replaceChildren(h("p", { class: "loading" }, "Loading API keys…"));
  }
  let organization;
  try {
    ({ organization } = await graphql(KEYS, { id: organizationId }));
  } catch (error) {
    if (error.code === "UNAUTHENTICATED") return;
    main.replaceChildren(
      h("p", { class: "error", role: "alert" }, `The keys did not load: ${error.message}`),
      h("button", { type: "button", onclick: load }, "Try again"),
    );
    return;
  }
  if (!organization) {
    main.replaceChildren(h("p", { class: "error" }, "This organization is not available to you."));
    return;
  }
  const page = { organization, keys: organization.apiKeys.edges.map((e) => e.node), load };
  page.pageInfo = organization.apiKeys.pageInfo;
  const canManage = organization.viewerRole === "OWNER" || organization.viewerRole === "ADMIN";
  const table = h(
    "table",
    { class: "keys" },
    h("caption", { class: "visually-hidden" }, `API keys of ${organization.name}`),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        ["Name", "Type", "Token", "Status", "Created", "Expires", "Last used"].map((title) =>
          h("th", { scope: "col" }, title),
        ),
        h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Actions")),
      ),
    ),
  );
  const body = h(
    "tbody",
    {},
    page.keys.map((key) => row(key, page, canManage)),
  );
  table.append(body);
  const more = h("button", { type: "button", class: "ghost" }, "Show more keys");
  const moreError = h("span", { class: "error", role: "alert" });
  more.addEventListener("click", async () => {
    more.disabled = true;
    moreError.textContent = "";
    try {
      const next = await graphql(KEYS, { id: organizationId, after: page.pageInfo.endCursor });
      const keys = next.organization.apiKeys.edges.map((e) => e.node);
      page.keys.push(...keys);
      page.pageInfo = next.organization.apiKeys.pageInfo;
      body.append(...keys.map((key) => row(key, page, canManage)));
      more.hidden = !page.pageInfo.hasNextPage;
    } catch (error) {
      moreError.textContent = error.message;
    } finally {
      more.disabled = false;
    }
  });
  more.hidden = !page.pageInfo.hasNextPage;
  const total = organization.apiKeys.totalCount;
  main.replaceChildren(
    ...[
      h(
        "div",
        { class: "page-head" },
        h(
          "div",
          {},
          h("h1", {}, "API keys"),
          h(
            "p",
            { class: "lead" },
            `Keys identify ${organization.name}'s requests. Public keys may be published in web `,
            "pages and apps; keep secret keys on your servers, like passwords.",
          ),
        ),
        canManage &&
          h(
            "button",
            { type: "button", class: "primary", onclick: () => newKey(page) },
            "New API key",
          ),
      ),
      notice && h("p", { class: "notice", role: "status" }, notice),
      !canManage && h("p", { class: "hint" }, "Owners and admins create, roll and delete keys."),
      h("div", { class: "table-wrap" }, table),
      h("p", { class: "count" }, total === 1 ? "1 key" : `${total} keys`, " ", more, moreError),
    ].filter(Boolean),
  );
  notice = null;
  const banners = await revokedBanners(organizationId);
  for (const old of main.querySelectorAll(".revoked-use")) old.remove();
  main.querySelector(".table-wrap")?.before(...banners);
}

function row(key, page, canManage) {
  return h(
    "tr",
    { "data-key-id": key.id, "data-status": key.status },
    h(
      "th",
      { scope: "row" },
      h("span", { class: "name" }, key.name),
      key.isDefault && h("span", { class: "badge" }, "Default"),
      h(
        "button",
        {
          type: "button",
          class: "link usage-link",
          "aria-label": `Usage of ${key.name}`,
          onclick: () => showKeyDetail(key),
        },
        "Usage",
      ),
    ),
    h("td", {}, h("span", { class: `type type-${key.type.toLowerCase()}` }, TYPE_LABELS[key.type])),
    h(
      "td",
      { class: "token-cell" },
      key.token
        ? tokenBox(key.token, { label: `token of ${key.name}` })
        : h("code", { class: "start" }, `${key.start}…`),
    ),
    h("td", { class: "status-cell" }, status(key)),
    h("td", {}, time(key.createdAt, { withTime: false })),
    h("td", {}, time(key.expiresAt)),
    h("td", {}, time(key.lastUsedAt)),
    h("td", { class: "actions-cell" }, canManage && actions(key, page)),
  );
}

function status(key) {
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

// -- the "…" menu --

let openMenu = null;

function closeMenu() {
  if (!openMenu) return;
  openMenu.menu.hidden = true;
  openMenu.button.setAttribute("aria-expanded", "false");
  openMenu = null;
}

document.addEventListener("click", (event) => {
  if (openMenu && !openMenu.menu.parentElement.contains(event.target)) closeMenu();
});
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && openMenu) {
    const { button } = openMenu;
    closeMenu();
    button.focus();
  }
});

function actions(key, page) {
  const item = (label, onclick, attributes = {}) =>
    h(
      "button",
      { type: "button", role: "menuitem", onclick: () => (closeMenu(), onclick()), ...attributes },
      label,
    );
  const menu = h(
    "div",
    { class: "menu", role: "menu", hidden: true },
    item("Roll", () => rollKey(key, page), {
      disabled: key.status !== "ACTIVE",
      title: key.status === "ACTIVE" ? null : "Only an active key can be rolled.",
    }),
    item("Delete", () => deleteKey(key, page), { class: "danger" }),
  );
  const button = h(
    "button",
    {
      type: "button",
      class: "more",
      "aria-haspopup": "menu",
      "aria-expanded": "false",
      "aria-label": `Actions for ${key.name}`,
      onclick: () => {
        const wasOpen = openMenu?.menu === menu;
        closeMenu();
        if (wasOpen) return;
        menu.hidden = false;
        button.setAttribute("aria-expanded", "true");
        openMenu = { menu, button };
        menu.querySelector("button:not([disabled])")?.focus();
      },
    },
    "…",
  );
  return h("div", { class: "actions" }, button, menu);
}

// -- New API key, Roll, Delete --

function newKey(page) {
  const typeChoice = (value, label, hint, checked) =>
    h(
      "label",
      { class: "choice" },
      h("input", { type: "radio", name: "type", value, checked }),
      h("span", {}, h("strong", {}, label), h("span", { class: "hint" }, hint)),
    );
  const form = onSubmit(
    h(
      "form",
      { method: "post" },
      field({
        label: "Name",
        name: "name",
        hint: "Which application uses it, so you know which key to roll or delete.",
        input: h("input", { type: "text", required: true, maxlength: 100, autocomplete: "off" }),
      }),
      h(
        "fieldset",
        { class: "field" },
        h("legend", {}, "Type"),
        typeChoice("SECRET", "Secret", "For your servers. Keep it confidential.", true),
        typeChoice("PUBLIC", "Public", "Identifies your organization; safe to publish.", false),
        h("p", { class: "error", "data-error-for": "type", role: "alert" }),
      ),
      field({
        label: "Expires (optional)",
        name: "expiresAt",
        hint: "Leave empty and the key works until it is rolled or deleted.",
        input: h("input", { type: "datetime-local" }),
      }),
      h(
        "div",
        { class: "buttons" },
        formError(),
        h("button", { type: "submit", class: "primary" }, "Save API key"),
      ),
    ),
    async (data) => {
      const input = {
        organizationId: page.organization.id,
        name: data.get("name"),
        type: data.get("type"),
      };
      if (data.get("expiresAt")) input.expiresAt = new Date(data.get("expiresAt")).toISOString();
      const result = (await graphql(CREATE_API_KEY, { input })).createApiKey;
      const { apiKey, token } = expect(result, "ApiKeyCreated", { OrganizationNotFound: "form" });
      dialog.show(`API key “${apiKey.name}” created`, ...shownOnce(apiKey, token, dialog));
      page.load();
    },
  );
  const dialog = openDialog("New API key", form);
}

function shownOnce(apiKey, token, dialog, ...extra) {
  const secret = apiKey.type === "SECRET";
  return [
    h(
      "p",
      { class: secret ? "warning" : "hint", role: "alert" },
      secret
        ? "Copy this token now and store it somewhere safe. It will not be shown again: keyward keeps only a fingerprint of it."
        : "This public key's token is also shown in the table; it may be published.",
    ),
    tokenBox(token, { label: "token" }),
    ...extra,
    h(
      "div",
      { class: "buttons" },
      h("button", { type: "button", class: "primary", onclick: () => dialog.close() }, "Done"),
    ),
  ];
}

function rollKey(key, page) {
  const grace = h("input", {
    type: "number",
    min: 0,
    max: MAX_GRACE_HOURS,
    step: "any",
    required: true,
    value: page.organization.rollGracePeriodSeconds / 3600, // the server's ROLL_GRACE_SECONDS
    class: "short",
  });
  const explain = h("p", {});
  const describe = () => {
    const seconds = Math.round(Number(grace.value) * 3600);
    explain.textContent =
      seconds === 0
        ? "A new key replaces it, and the old key stops working at once."
        : `A new key replaces it. The old key keeps working for ${duration(seconds)}, so you can update your applications; then it stops working.`;
  };
  grace.addEventListener("input", describe);
  describe();
  const form = onSubmit(
    h(
      "form",
      { method: "post" },
      explain,
      field({
        label: "Old key keeps working for (hours)",
        name: "graceHours",
        errorFor: "gracePeriodSeconds",
        input: grace,
      }),
      h(
        "div",
        { class: "buttons" },
        formError(),
        h("button", { type: "button", class: "ghost", onclick: () => dialog.close() }, "Cancel"),
        h("button", { type: "submit", class: "primary" }, "Roll API key"),
      ),
    ),
    async () => {
      const input = { id: key.id, gracePeriodSeconds: Math.round(Number(grace.value) * 3600) };
      const result = (await graphql(ROLL_API_KEY, { input })).rollApiKey;
      const { apiKey, token, rolledApiKey } = expect(result, "ApiKeyRolled");
      const old =
        rolledApiKey.status === "ROLLED"
          ? `The old key (${rolledApiKey.start}…) keeps working until ${until(rolledApiKey.expiresAt)}.`
          : `The old key (${rolledApiKey.start}…) no longer works.`;
      dialog.show(
        `API key “${apiKey.name}” rolled`,
        ...shownOnce(apiKey, token, dialog, h("p", { class: "hint" }, old)),
      );
      page.load();
    },
  );
  const dialog = openDialog(`Roll “${key.name}” (${key.start}…)?`, form);
}

function deleteKey(key, page) {
  const form = onSubmit(
    h(
      "form",
      { method: "post" },
      h(
        "p",
        { class: "warning" },
        "It stops working at once: the very next request that uses it is refused. This cannot be undone.",
      ),
      h(
        "div",
        { class: "buttons" },
        formError(),
        h("button", { type: "button", class: "ghost", onclick: () => dialog.close() }, "Cancel"),
        h("button", { type: "submit", class: "danger" }, "Delete API key"),
      ),
    ),
    async () => {
      const result = (await graphql(DELETE_API_KEY, { input: { id: key.id } })).deleteApiKey;
      expect(result, "ApiKeyDeleted");
      notice = `“${key.name}” (${key.start}…) was deleted and no longer works.`;
      dialog.close();
      await page.load();
    },
  );
  const dialog = openDialog(`Delete “${key.name}” (${key.start}…)?`, form);
}
