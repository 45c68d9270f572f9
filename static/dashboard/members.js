// The Members page: the organization's members with their roles, Invite member, pending
// invitations with Revoke, change a role, Remove, Leave. Each control is shown only when the
// API's viewerPermissions allow it; the server decides again on every request.

import { expect, graphql } from "./api.js";
import { openDialog } from "./dialog.js";
import { field, formError, h, onSubmit, time, tokenBox } from "./dom.js";
import {
  CHANGE_MEMBER_ROLE,
  INVITE_MEMBER,
  LEAVE_ORGANIZATION,
  MEMBERS,
  REMOVE_MEMBER,
  REVOKE_INVITATION,
} from "./team_api.js";

const ROLE_LABELS = { OWNER: "Owner", ADMIN: "Admin", MEMBER: "Member" };

/** Show the members of `organizationId` in `main`; `onLeft()` runs once the viewer has left. */
export async function showMembers(main, organizationId, { user, onLeft, notice = null }) {
  const load = (next = null) => showMembers(main, organizationId, { user, onLeft, notice: next });
  if (!main.querySelector("table")) {
    main.replaceChildren(h("p", { class: "loading" }, "Loading members…"));
  }
  let organization;
  try {
    ({ organization } = await graphql(MEMBERS, { id: organizationId }));
  } catch (error) {
    if (error.code === "UNAUTHENTICATED") return;
    main.replaceChildren(
      h("p", { class: "error", role: "alert" }, `The members did not load: ${error.message}`),
    );
    return;
  }
  if (!organization) {
    main.replaceChildren(h("p", { class: "error" }, "This organization is not available to you."));
    return;
  }
  const may = (permission) => organization.viewerPermissions.includes(permission);
  const errors = h("p", { class: "error", role: "alert" });
  const page = { organization, user, may, load, onLeft, errors };
  const members = organization.members.edges.map((edge) => edge.node);
  main.replaceChildren(
    ...[
      h(
        "div",
        { class: "page-head" },
        h(
          "div",
          {},
          h("h1", {}, "Members"),
          h("p", { class: "lead" }, `The people of ${organization.name}, and what each may do.`),
        ),
        may("MANAGE_MEMBERS") &&
          h(
            "button",
            { type: "button", class: "primary", onclick: () => invite(page) },
            "Invite member",
          ),
      ),
      notice && h("p", { class: "notice", role: "status" }, notice),
      page.errors,
      h(
        "div",
        { class: "table-wrap" },
        table(
          `Members of ${organization.name}`,
          ["Email", "Role", "Joined", "Actions"],
          members.map((member) => memberRow(member, page)),
        ),
      ),
      h("h2", {}, "Pending invitations"),
      organization.invitations.length
        ? h(
            "div",
            { class: "table-wrap" },
            table(
              `Pending invitations to ${organization.name}`,
              ["Email", "Role", "Expires", "Actions"],
              organization.invitations.map((invitation) => invitationRow(invitation, page)),
            ),
          )
        : h("p", { class: "hint" }, "No invitation is waiting for an answer."),
    ].filter(Boolean),
  );
}

function table(caption, titles, rows) {
  return h(
    "table",
    { class: "keys members" },
    h("caption", { class: "visually-hidden" }, caption),
    h("thead", {}, h("tr", {}, titles.map((title) => h("th", { scope: "col" }, title)))),
    h("tbody", {}, rows),
  );
}

const mayTouch = (member, page) =>
  page.may("MANAGE_MEMBERS") && (member.role !== "OWNER" || page.may("MANAGE_OWNERS"));

function memberRow(member, page) {
  const email = member.user.email;
  const me = member.user.id === page.user.id;
  let role = ROLE_LABELS[member.role];
  if (!me && mayTouch(member, page)) {
    const roles = page.may("MANAGE_OWNERS") ? ["MEMBER", "ADMIN", "OWNER"] : ["MEMBER", "ADMIN"];
    role = h(
      "select",
      {
        "aria-label": `Role of ${email}`,
        onchange: (event) => changeRole(member, event.target.value, page),
      },
      roles.map((value) =>
        h("option", { value, selected: value === member.role }, ROLE_LABELS[value]),
      ),
    );
  }
  let action = null;
  if (me) {
    action = h("button", { type: "button", onclick: () => leave(page) }, "Leave");
  } else if (mayTouch(member, page)) {
    action = h(
      "button",
      {
        type: "button",
        class: "danger",
        "aria-label": `Remove ${email}`,
        onclick: () => remove(member, page),
      },
      "Remove",
    );
  }
  return h(
    "tr",
    { "data-user": member.user.id },
    h("th", { scope: "row" }, email, me && h("span", { class: "hint" }, " (you)")),
    h("td", {}, role),
    h("td", {}, time(member.joinedAt)),
    h("td", {}, action),
  );
}

function invitationRow(invitation, page) {
  return h(
    "tr",
    {},
    h("th", { scope: "row" }, invitation.email),
    h("td", {}, ROLE_LABELS[invitation.role]),
    h("td", {}, time(invitation.expiresAt)),
    h(
      "td",
      {},
      page.may("MANAGE_MEMBERS") &&
        h(
          "button",
          {
            type: "button",
            "aria-label": `Revoke the invitation of ${invitation.email}`,
            onclick: () => revoke(invitation, page),
          },
          "Revoke",
        ),
    ),
  );
}

function revoke(invitation, page) {
  const notice = `The invitation of ${invitation.email} was revoked.`;
  const input = { id: invitation.id };
  act(page, REVOKE_INVITATION, input, "revokeInvitation", "InvitationRevoked", notice);
}

async function act(page, document, input, name, success, notice) {
  page.errors.textContent = "";
  try {
    expect((await graphql(document, { input }))[name], success);
  } catch (error) {
    if (error.code === "UNAUTHENTICATED") return false;
    page.errors.textContent = error.message;
    return false;
  }
  page.load(notice);
  return true;
}

function changeRole(member, role, page) {
  const input = { organizationId: page.organization.id, userId: member.user.id, role };
  const notice = `${member.user.email} is now ${ROLE_LABELS[role].toLowerCase()}.`;
  act(page, CHANGE_MEMBER_ROLE, input, "changeMemberRole", "MemberRoleChanged", notice).then(
    (done) => done || page.load(),
  );
}

function remove(member, page) {
  const email = member.user.email;
  const confirm = async () => {
    dialog.close();
    const input = { organizationId: page.organization.id, userId: member.user.id };
    await act(page, REMOVE_MEMBER, input, "removeMember", "MemberRemoved", `${email} was removed.`);
  };
  const dialog = openDialog(
    `Remove ${email}?`,
    h("p", {}, `${email} loses access to ${page.organization.name} at once.`),
    h(
      "div",
      { class: "buttons" },
      h("button", { type: "button", onclick: () => dialog.close() }, "Cancel"),
      h("button", { type: "button", class: "danger", onclick: confirm }, "Remove member"),
    ),
  );
}

function leave(page) {
  const errorSlot = h("p", { class: "error", role: "alert" });
  const confirm = async () => {
    errorSlot.textContent = "";
    try {
      const input = { organizationId: page.organization.id };
      expect((await graphql(LEAVE_ORGANIZATION, { input })).leaveOrganization, "OrganizationLeft");
    } catch (error) {
      errorSlot.textContent = error.message;
      return;
    }
    dialog.close();
    page.onLeft();
  };
  const dialog = openDialog(
    `Leave ${page.organization.name}?`,
    h("p", {}, "You lose access to its keys at once; an owner or admin can invite you again."),
    errorSlot,
    h(
      "div",
      { class: "buttons" },
      h("button", { type: "button", onclick: () => dialog.close() }, "Cancel"),
      h("button", { type: "button", class: "danger", onclick: confirm }, "Leave organization"),
    ),
  );
}

function invite(page) {
  const roles = page.may("MANAGE_OWNERS") ? ["MEMBER", "ADMIN", "OWNER"] : ["MEMBER", "ADMIN"];
  const form = onSubmit(
    h(
      "form",
      { method: "post" },
      field({
        label: "Email",
        name: "email",
        hint: "Only the account with this email can accept.",
        input: h("input", { type: "email", required: true, maxlength: 254, autocomplete: "off" }),
      }),
      field({
        label: "Role",
        name: "role",
        input: h("select", {}, roles.map((value) => h("option", { value }, ROLE_LABELS[value]))),
      }),
      h(
        "div",
        { class: "buttons" },
        formError(),
        h("button", { type: "submit", class: "primary" }, "Send invitation"),
      ),
    ),
    async (data) => {
      const input = {
        organizationId: page.organization.id,
        email: data.get("email"),
        role: data.get("role"),
      };
      const result = (await graphql(INVITE_MEMBER, { input })).inviteMember;
      const invited = expect(result, "MemberInvited", { AlreadyMember: "email" });
      const email = invited.invitation.email;
      dialog.show(
        `${email} is invited`,
        h(
          "p",
          { class: invited.mailed ? "hint" : "warning", role: "alert" },
          invited.mailed
            ? `A mail with this link is on its way to ${email}. The link is shown only now.`
            : `Mail is off on this server: send ${email} this link yourself. It is shown only now.`,
        ),
        tokenBox(invited.invitationLink, { label: "Invitation link" }),
        h(
          "div",
          { class: "buttons" },
          h("button", { type: "button", class: "primary", onclick: () => dialog.close() }, "Done"),
        ),
      );
      page.load();
    },
  );
  const dialog = openDialog("Invite member", form);
}
