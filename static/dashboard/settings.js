// The General page: rename the organization, or delete it with its name typed to confirm.
// Shown to everyone who may see the organization; the forms only to those the API says may
// use them (MANAGE_ORGANIZATION, owners).

import { expect, graphql } from "./api.js";
import { openDialog } from "./dialog.js";
import { field, formError, h, onSubmit } from "./dom.js";
import {
  DELETE_ORGANIZATION,
  ORGANIZATION_SETTINGS,
  RENAME_ORGANIZATION,
  UPDATE_LEAK_POLICY,
} from "./team_api.js";

const LEAK_POLICIES = [
  ["REVOKE", "Revoke", "A secret key found in public is deleted at once; owners and admins are mailed."],
  ["NOTIFY", "Notify only", "The key keeps working until someone rolls or deletes it; owners and admins are mailed."],
];

/** `onRenamed(organization)` and `onDeleted()` let the shell update its switcher. */
export async function showGeneral(main, organizationId, { onRenamed, onDeleted }) {
  main.replaceChildren(h("p", { class: "loading" }, "Loading…"));
  let organization;
  try {
    ({ organization } = await graphql(ORGANIZATION_SETTINGS, { id: organizationId }));
  } catch (error) {
    if (error.code !== "UNAUTHENTICATED") {
      main.replaceChildren(h("p", { class: "error", role: "alert" }, error.message));
    }
    return;
  }
  if (!organization) {
    main.replaceChildren(h("p", { class: "error" }, "This organization is not available to you."));
    return;
  }
  const mayManage = organization.viewerPermissions.includes("MANAGE_ORGANIZATION");
  const head = h(
    "div",
    { class: "page-head" },
    h("div", {}, h("h1", { tabindex: -1, "data-focus": "main-heading" }, "General"), h("p", { class: "lead" }, organization.name)),
  );
  if (!mayManage) {
    const hint = "Only owners rename or delete the organization, or change its leak policy.";
    const [, label] = LEAK_POLICIES.find(([value]) => value === organization.leakPolicy) ?? [];
    main.replaceChildren(
      head,
      h("p", { class: "hint" }, hint),
      label && h("p", { class: "leak-policy" }, `Leaked secret keys: ${label}.`),
    );
    return;
  }
  const rename = onSubmit(
    h(
      "form",
      { method: "post", "aria-label": "Rename organization" },
      field({
        label: "Organization name",
        name: "name",
        input: h("input", {
          type: "text",
          required: true,
          maxlength: 100,
          value: organization.name,
        }),
      }),
      h(
        "div",
        { class: "buttons" },
        formError(),
        h("button", { type: "submit", class: "primary" }, "Save name"),
      ),
    ),
    async (data) => {
      const input = { id: organization.id, name: data.get("name") };
      const result = (await graphql(RENAME_ORGANIZATION, { input })).renameOrganization;
      const renamed = expect(result, "OrganizationRenamed").organization;
      onRenamed(renamed);
    },
  );
  main.replaceChildren(
    head,
    h("section", { class: "card" }, h("h2", {}, "Name"), rename),
    leakPolicyCard(organization),
    h(
      "section",
      { class: "card" },
      h("h2", {}, "Delete organization"),
      h(
        "p",
        {},
        "Deleting removes its API keys (they stop working at once), its members and its ",
        "invitations. This cannot be undone.",
      ),
      h(
        "button",
        { type: "button", class: "danger", onclick: () => confirmDelete(organization, onDeleted) },
        "Delete organization",
      ),
    ),
  );
}

function confirmDelete(organization, onDeleted) {
  const form = onSubmit(
    h(
      "form",
      { method: "post" },
      field({
        label: `Type “${organization.name}” to confirm`,
        name: "confirmName",
        input: h("input", { type: "text", required: true, autocomplete: "off" }),
      }),
      h(
        "div",
        { class: "buttons" },
        formError(),
        h("button", { type: "button", onclick: () => dialog.close() }, "Cancel"),
        h("button", { type: "submit", class: "danger" }, "Delete organization"),
      ),
    ),
    async (data) => {
      const input = { id: organization.id, confirmName: data.get("confirmName") };
      const result = (await graphql(DELETE_ORGANIZATION, { input })).deleteOrganization;
      expect(result, "OrganizationDeleted");
      dialog.close();
      onDeleted();
    },
  );
  const dialog = openDialog(`Delete ${organization.name}?`, form);
}

/** What happens to a secret key found in public (GitHub's secret scanning, or a report). */
function leakPolicyCard(organization) {
  const saved = h("p", { class: "hint", "aria-live": "polite" });
  const form = onSubmit(
    h(
      "form",
      { method: "post", "aria-label": "Leak policy" },
      h(
        "fieldset",
        { class: "field" },
        h("legend", {}, "When a secret key is found in public"),
        LEAK_POLICIES.map(([value, label, hint]) =>
          h(
            "label",
            { class: "choice" },
            h("input", { type: "radio", name: "leakPolicy", value, checked: organization.leakPolicy === value }),
            h("span", {}, h("strong", {}, label), h("span", { class: "hint" }, hint)),
          ),
        ),
      ),
      h("div", { class: "buttons" }, formError(), h("button", { type: "submit", class: "primary" }, "Save leak policy")),
      saved,
    ),
    async (data) => {
      const input = { organizationId: organization.id, leakPolicy: data.get("leakPolicy") };
      const result = (await graphql(UPDATE_LEAK_POLICY, { input })).updateLeakPolicy;
      const updated = expect(result, "LeakPolicyUpdated").organization;
      organization.leakPolicy = updated.leakPolicy;
      saved.textContent = "Saved.";
    },
  );
  return h(
    "section",
    { class: "card" },
    h("h2", {}, "Leaked keys"),
    h(
      "p",
      {},
      "GitHub reports keys it finds in public repositories to keyward within seconds, and anyone may ",
      "report one. Public keys are only recorded: they are meant to be published.",
    ),
    form,
  );
}
