// The dialogs that change keys: New API key, Rename, Roll and Delete. A secret token is shown
// once, in its dialog, and never kept. `page` is the page that opened them: its organization
// (with the server's bounds) and `load()` to redraw it after a change.

import {
  CREATE_API_KEY,
  DELETE_API_KEY,
  RENAME_API_KEY,
  ROLL_API_KEY,
  expect,
  graphql,
} from "./api.js";
import { openDialog } from "./dialog.js";
import { duration, field, formError, h, onSubmit, tokenBox, until } from "./dom.js";

export const MAX_NAME_LENGTH = 100;
const DAY = 86_400_000;
const EXPIRY_PRESETS = [
  ["never", "Never"],
  ["30", "In 30 days"],
  ["60", "In 60 days"],
  ["90", "In 90 days"],
  ["365", "In a year"],
  ["custom", "On a date…"],
];

const nameInput = (value = "") =>
  h("input", { type: "text", required: true, autocomplete: "off", value });

export function newKey(page) {
  const typeChoice = (value, label, hint, checked) =>
    h(
      "label",
      { class: "choice" },
      h("input", { type: "radio", name: "type", value, checked }),
      h("span", {}, h("strong", {}, label), h("span", { class: "hint" }, hint)),
    );
  const preset = h(
    "select",
    {},
    EXPIRY_PRESETS.map(([value, label]) => h("option", { value }, label)),
  );
  const custom = h("input", { type: "datetime-local" });
  const customField = field({
    label: "Expiry date and time",
    name: "expiresAt",
    input: custom,
  });
  const expiryHint = h("p", { class: "hint", "aria-live": "polite" });
  const expiresAt = () => {
    if (preset.value === "never") return null;
    if (preset.value === "custom") return custom.value ? new Date(custom.value) : null;
    return new Date(Date.now() + Number(preset.value) * DAY);
  };
  const describe = () => {
    customField.hidden = preset.value !== "custom";
    custom.required = preset.value === "custom";
    const at = expiresAt();
    expiryHint.textContent =
      preset.value === "never"
        ? "It works until it is rolled or deleted."
        : at && !Number.isNaN(at.getTime())
          ? `It stops working on ${until(at.toISOString())}.`
          : "";
  };
  preset.addEventListener("change", describe);
  custom.addEventListener("input", describe);
  describe();
  const form = onSubmit(
    h(
      "form",
      { method: "post" },
      field({
        label: "Name",
        name: "name",
        hint: "Which application uses it, so you know which key to roll or delete.",
        input: nameInput(),
        maxLength: MAX_NAME_LENGTH,
      }),
      h(
        "fieldset",
        { class: "field" },
        h("legend", {}, "Type"),
        typeChoice("SECRET", "Secret", "For your servers. Keep it confidential.", true),
        typeChoice("PUBLIC", "Public", "Identifies your organization; safe to publish.", false),
        h("p", { class: "error", "data-error-for": "type", role: "alert" }),
      ),
      field({ label: "Expires", name: "expiry", input: preset }),
      expiryHint,
      customField,
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
      const at = expiresAt();
      if (at) input.expiresAt = at.toISOString();
      const result = (await graphql(CREATE_API_KEY, { input })).createApiKey;
      const { apiKey, token } = expect(result, "ApiKeyCreated", { OrganizationNotFound: "form" });
      dialog.show(`API key “${apiKey.name}” created`, ...shownOnce(apiKey, token, dialog));
      page.load();
    },
  );
  const dialog = openDialog("New API key", form, { returnFocus: ["new-key"] });
}

export function renameKey(key, page) {
  const form = onSubmit(
    h(
      "form",
      { method: "post" },
      field({
        label: "Name",
        name: "name",
        input: nameInput(key.name),
        maxLength: MAX_NAME_LENGTH,
      }),
      h(
        "div",
        { class: "buttons" },
        formError(),
        h("button", { type: "button", class: "ghost", onclick: () => dialog.close() }, "Cancel"),
        h("button", { type: "submit", class: "primary" }, "Rename API key"),
      ),
    ),
    async (data) => {
      const input = { id: key.id, name: data.get("name") };
      const result = (await graphql(RENAME_API_KEY, { input })).renameApiKey;
      const { apiKey } = expect(result, "ApiKeyRenamed");
      page.notice = `Renamed to “${apiKey.name}”.`;
      await page.load();
      dialog.close();
    },
  );
  const dialog = openDialog(`Rename “${key.name}” (${key.start}…)`, form);
  dialog.dialog.querySelector("input").select();
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
    tokenBox(token, { label: `token of ${apiKey.name}` }),
    ...extra,
    h(
      "div",
      { class: "buttons" },
      h("button", { type: "button", class: "primary", onclick: () => dialog.close() }, "Done"),
    ),
  ];
}

export function rollKey(key, page) {
  const { rollGracePeriodSeconds, maxRollGracePeriodSeconds } = page.organization;
  const maxHours = maxRollGracePeriodSeconds / 3600;
  const grace = h("input", {
    type: "number",
    min: 0,
    max: maxHours,
    step: "any",
    required: true,
    inputmode: "decimal",
    value: rollGracePeriodSeconds / 3600, // the server's ROLL_GRACE_SECONDS
    class: "short",
  });
  const explain = h("p", { "aria-live": "polite" });
  const error = h("p", { class: "error", role: "alert", "data-error-for": "gracePeriodSeconds" });
  const describe = () => {
    const hours = grace.value.trim() === "" ? Number.NaN : Number(grace.value);
    const seconds = Math.round(hours * 3600);
    const problem = Number.isNaN(hours)
      ? "Enter a number of hours."
      : seconds < 0 || seconds > maxRollGracePeriodSeconds
        ? `Enter 0 to ${maxHours} hours.`
        : "";
    grace.setCustomValidity(problem);
    error.textContent = problem;
    if (problem) grace.setAttribute("aria-invalid", "true");
    else grace.removeAttribute("aria-invalid");
    explain.textContent = problem
      ? "A new key replaces it; the old key keeps working for the time you choose."
      : seconds === 0
        ? "A new key replaces it, and the old key stops working at once."
        : `A new key replaces it. The old key keeps working for ${duration(seconds)}, so you can update your applications; then it stops working.`;
  };
  grace.addEventListener("input", describe);
  const graceField = field({
    label: "Old key keeps working for (hours)",
    name: "graceHours",
    errorFor: "graceHours",
    hint: `0 to ${maxHours} hours.`,
    input: grace,
  });
  graceField.append(error);
  describe();
  const form = onSubmit(
    h(
      "form",
      { method: "post" },
      explain,
      graceField,
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

/** `returnFocus`: where focus goes once the key is gone (the next row's "…", say). */
export function deleteKey(key, page, { returnFocus = ["new-key", "main-heading"] } = {}) {
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
      page.notice = `“${key.name}” (${key.start}…) was deleted and no longer works.`;
      await page.afterDelete(key);
      dialog.close();
    },
  );
  const opener = document.activeElement?.dataset?.focus;
  const dialog = openDialog(`Delete “${key.name}” (${key.start}…)?`, form, {
    returnFocus: [opener, ...returnFocus],
  });
}
