// One key's page, /orgs/<id>/keys/<keyId>: everything the table shows, with room for it, and
// the key's actions as buttons. Deleting it goes back to the list.

import { KEY_PAGE, can, graphql } from "./api.js";
import { h, time, tokenBox } from "./dom.js";
import { leakBanner } from "./leaks.js";
import { deleteKey, renameKey, rollKey } from "./key_actions.js";
import { STATUS_LABELS, TYPE_LABELS, noticeForNextPage, status } from "./keys.js";
import { keyPath, keysPath, linkTo, navigate, redraw } from "./router.js";
import { restrictionsSection } from "./restrictions.js";
import { usageSection } from "./usage.js";

export async function showKey(main, organizationId, keyId, { focus = true } = {}) {
  main.replaceChildren(h("p", { class: "loading" }, "Loading the API key…"));
  let answer;
  try {
    answer = await graphql(KEY_PAGE, { organizationId, id: keyId });
  } catch (error) {
    if (error.code === "UNAUTHENTICATED") return;
    main.replaceChildren(
      h("p", { class: "error", role: "alert" }, `The key did not load: ${error.message}`),
      h("button", { type: "button", onclick: () => showKey(main, organizationId, keyId) }, "Try again"),
    );
    return;
  }
  const back = linkTo(h, keysPath(organizationId), { class: "back" }, "← All API keys");
  const { organization, apiKey: key } = answer;
  if (!organization || !key) {
    main.replaceChildren(
      back,
      h("h1", { tabindex: -1, "data-focus": "main-heading" }, "API key not found"),
      h("p", {}, "It was deleted, or it belongs to another organization."),
    );
    return;
  }
  const page = {
    organization,
    notice: null,
    load: () => (main.isConnected ? showKey(main, organizationId, keyId, { focus: false }) : redraw()),
    afterDelete: async () => {
      noticeForNextPage(page.notice);
      await navigate(keysPath(organizationId));
    },
  };
  const canManage = can(organization, "MANAGE_KEYS");
  const entry = (term, value) => [h("dt", {}, term), h("dd", {}, value)];
  const button = (label, focus, action, attributes = {}) =>
    h("button", { type: "button", "data-focus": focus, onclick: action, ...attributes }, label);
  main.replaceChildren(
    back,
    ...leakBanners(key),
    h(
      "div",
      { class: "page-head" },
      h(
        "div",
        {},
        h("h1", { tabindex: -1, "data-focus": "main-heading", class: "name" }, key.name),
        h("p", { class: "lead" }, `${TYPE_LABELS[key.type]} key of `, h("span", { class: "wrap" }, organization.name)),
      ),
    ),
    h(
      "div",
      { class: "card" },
      h(
        "dl",
        { class: "key-details" },
        entry("Status", status(key)),
        entry(
          key.token ? "Token" : "Starts with",
          key.token ? tokenBox(key.token, { label: `token of ${key.name}` }) : h("code", { class: "start" }, `${key.start}…`),
        ),
        entry("Type", TYPE_LABELS[key.type] + (key.isDefault ? " (the organization's default key)" : "")),
        entry("Created", time(key.createdAt)),
        entry("Expires", time(key.expiresAt)),
        entry("Last used", time(key.lastUsedAt)),
        key.rolledAt && entry("Rolled", time(key.rolledAt)),
        // A key made by another key: after a leak, the keys the leaked key made are suspect.
        key.createdByKey &&
          entry(
            "Created by key",
            linkTo(
              h,
              keyPath(organizationId, key.createdByKey.id),
              { class: "wrap" },
              `${key.createdByKey.name} (${key.createdByKey.start}…)`,
            ),
          ),
      ),
      canManage &&
        h(
          "div",
          { class: "buttons" },
          button("Rename", "rename", () => renameKey(key, page)),
          button("Roll", "roll", () => rollKey(key, page), {
            disabled: key.status !== "ACTIVE",
            title: key.status === "ACTIVE" ? null : `Only an active key can be rolled; this one is ${STATUS_LABELS[key.status].toLowerCase()}.`,
          }),
          button("Delete", "delete", () => deleteKey(key, page, { returnFocus: ["new-key", "main-heading"] }), {
            class: "danger",
          }),
        ),
    ),
  );
  main.append(restrictionsSection(key, page, canManage));
  if (focus) main.querySelector("h1").focus();
  const usage = await usageSection(key);
  if (main.contains(back)) main.append(usage);
}

/** A red banner per place the key was found in public (newest first), over everything else. */
function leakBanners(key) {
  return (key.leaks ?? []).map((leak) => leakBanner(leak, key.type));
}
