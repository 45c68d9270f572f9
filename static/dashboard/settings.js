// The General page: rename the organization, or delete it with its name typed to confirm.
// Shown to everyone who may see the organization; the forms only to those the API says may
// use them (MANAGE_ORGANIZATION, owners).

import { expect, graphql } from "./api.js";
import { openDialog } from "./dialog.js";
import { field, formError, h, onSubmit } from "./dom.js";
import { DELETE_ORGANIZATION, ORGANIZATION_SETTINGS, RENAME_ORGANIZATION } from "./team_api.js";

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
    h("div", {}, h("h1", {}, "General"), h("p", { class: "lead" }, organization.name)),
  );
  if (!mayManage) {
    const hint = "Only owners rename or delete the organization.";
    main.replaceChildren(head, h("p", { class: "hint" }, hint));
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
