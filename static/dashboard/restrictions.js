// A key's Restrictions section: where the key may be used from (networks, web origins), whether
// a caller elsewhere is refused or only recorded, and the latest caller refused, with a one-click
// "Allow" that adds it. The server normalises and checks every entry; this page only edits lists.

import { UPDATE_API_KEY, expect, graphql } from "./api.js";
import { field, formError, h, onSubmit, until } from "./dom.js";

const ADVICE = {
  PUBLIC:
    "A public key is published in your pages: list the web origins allowed to use it " +
    "(https://app.example.com, or https://*.example.com for every subdomain). An origin is a " +
    "header a script can fake outside a browser: this stops others' web pages, not a determined abuser.",
  SECRET:
    "A secret key belongs on your servers: list the networks they call from (203.0.113.0/24, " +
    "2001:db8::/32, or one address). A stolen key then fails anywhere else.",
};
const REASONS = {
  IP_NOT_ALLOWED: "its address is not in the allowed networks",
  ORIGIN_NOT_ALLOWED: "its origin is not among the allowed origins",
};

const lines = (text) =>
  text
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);

function listInput(values, placeholder) {
  const input = h("textarea", { rows: 4, spellcheck: "false", autocomplete: "off", placeholder });
  input.value = values.join("\n");
  return input;
}

async function update(input) {
  const result = (await graphql(UPDATE_API_KEY, { input })).updateApiKey;
  return expect(result, "ApiKeyUpdated").apiKey;
}

/** The refused caller, with a button that adds it to its list (when the viewer may). */
function lastDenial(key, page, canManage) {
  const denial = key.lastDenial;
  if (!denial) return null;
  const byAddress = denial.reason === "IP_NOT_ALLOWED";
  const what = byAddress ? denial.address : denial.origin;
  const reportOnly = key.restrictionMode === "REPORT_ONLY";
  const allow = async (event) => {
    const button = event.currentTarget;
    button.disabled = true;
    try {
      const input = byAddress
        ? { id: key.id, allowedCidrs: [...key.allowedCidrs, what] }
        : { id: key.id, allowedOrigins: [...key.allowedOrigins, what] };
      await update(input);
      page.notice = `Allowed ${what}.`;
      await page.load();
    } catch (error) {
      button.disabled = false;
      button.after(h("p", { class: "error", role: "alert" }, error.message));
    }
  };
  return h(
    "div",
    { class: reportOnly ? "notice denial" : "warning denial", "data-denial": "" },
    h(
      "p",
      {},
      reportOnly ? "Would have refused " : "Refused ",
      what ? h("code", { class: "wrap" }, what) : "a caller that sent none",
      ", last at ",
      h("time", { datetime: denial.at }, until(denial.at)),
      `: ${REASONS[denial.reason]}.`,
    ),
    canManage &&
      what &&
      h("button", { type: "button", "data-focus": "allow", onclick: allow }, `Allow ${what}`),
  );
}

export function restrictionsSection(key, page, canManage) {
  const restricted = key.allowedCidrs.length || key.allowedOrigins.length;
  const summary = h(
    "p",
    {},
    restricted
      ? `${key.allowedCidrs.length} network(s), ${key.allowedOrigins.length} origin(s); ` +
          (key.restrictionMode === "ENFORCE" ? "callers elsewhere are refused." : "report only: callers elsewhere are let through and recorded.")
      : "None: this key works from any address and any origin.",
  );
  const section = h(
    "section",
    { class: "card key-restrictions", "aria-labelledby": "restrictions-heading" },
    h("h2", { id: "restrictions-heading" }, "Restrictions"),
    h("p", { class: "hint" }, ADVICE[key.type]),
    summary,
    lastDenial(key, page, canManage),
  );
  if (!canManage) return section;
  const cidrs = listInput(key.allowedCidrs, "203.0.113.0/24");
  const origins = listInput(key.allowedOrigins, "https://app.example.com");
  const mode = h(
    "select",
    {},
    h("option", { value: "ENFORCE", selected: key.restrictionMode === "ENFORCE" }, "Enforce: refuse callers elsewhere"),
    h("option", { value: "REPORT_ONLY", selected: key.restrictionMode === "REPORT_ONLY" }, "Report only: let them through, record them"),
  );
  const networksField = field({ label: "Allowed networks, one a line", name: "allowedCidrs", input: cidrs });
  const originsField = field({ label: "Allowed web origins, one a line", name: "allowedOrigins", input: origins });
  const form = onSubmit(
    h(
      "form",
      { method: "post", class: "restrictions-form" },
      // The type's own list first: origins for a public key, networks for a secret one.
      ...(key.type === "PUBLIC" ? [originsField, networksField] : [networksField, originsField]),
      field({ label: "Mode", name: "restrictionMode", input: mode }),
      h(
        "div",
        { class: "buttons" },
        formError(),
        h("button", { type: "submit", class: "primary", "data-focus": "save-restrictions" }, "Save restrictions"),
      ),
    ),
    async (data) => {
      await update({
        id: key.id,
        allowedCidrs: lines(data.get("allowedCidrs")),
        allowedOrigins: lines(data.get("allowedOrigins")),
        restrictionMode: data.get("restrictionMode"),
      });
      page.notice = "Restrictions saved: they apply from the next request.";
      await page.load();
    },
  );
  section.append(form);
  return section;
}
