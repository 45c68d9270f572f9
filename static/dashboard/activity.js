// The Activity page: the organization's audit log, newest first, each event in words, with
// filters (action, actor, key), paging, and downloads of the whole log (NDJSON, CSV).

import { graphql, session } from "./api.js";
import { h, until } from "./dom.js";

const AUDIT = `query Audit($id: ID!, $after: String, $actions: [String!], $actorId: ID,
                          $targetId: ID) {
  organization(id: $id) {
    id name viewerPermissions
    auditEvents(first: 50, after: $after, actions: $actions, actorId: $actorId,
                targetId: $targetId) {
      pageInfo { hasNextPage endCursor }
      edges { node { id occurredAt action actor { type id name } target { type id name }
                     clientAddress userAgent requestId details } }
    }
  }
}`;

const ACTIONS = {
  "": "All actions",
  "organization.created": "Organization created",
  "organization.renamed": "Organization renamed",
  "api_key.created": "Key created",
  "api_key.rolled": "Key rolled",
  "api_key.deleted": "Key deleted",
  "api_key.expired": "Key expired",
  "api_key.purged": "Key removed",
  "member.invited": "Member invited",
  "member.joined": "Member joined",
  "member.role_changed": "Role changed",
  "member.removed": "Member removed",
  "member.left": "Member left",
  "invitation.revoked": "Invitation revoked",
};

const quoted = (name) => `‘${name}’`;

/** One event in words: "ada@example.com rolled ‘Production server’ (old key works until 22:02)". */
export function describe(event) {
  const who = event.actor.type === "SYSTEM" ? "keyward" : event.actor.name ?? "Someone";
  const what = event.target?.name ? quoted(event.target.name) : "an item";
  const details = event.details ?? {};
  switch (event.action) {
    case "organization.created":
      return `${who} created the organization ${what}`;
    case "organization.renamed":
      return `${who} renamed the organization to ${quoted(details.name ?? event.target?.name)}`;
    case "organization.deleted":
      return `${who} deleted the organization ${what}`;
    case "api_key.created":
      return details.default
        ? `keyward created ${what} with the organization`
        : `${who} created ${what}`;
    case "api_key.rolled":
      return `${who} rolled ${what} (old key works until ${until(details.graceEndsAt)})`;
    case "api_key.deleted":
      return `${who} deleted ${what}`;
    case "api_key.updated":
      return `${who} changed ${what}`;
    case "api_key.expired":
      return `${what} stopped working: its grace period ended`;
    case "api_key.purged":
      return `keyward removed the expired key ${what}`;
    case "member.invited":
      return `${who} invited ${event.target?.name ?? "someone"}`;
    case "member.joined":
      return `${event.target?.name ?? who} joined`;
    case "member.role_changed":
      return `${who} changed ${event.target?.name ?? "a member"}'s role from ${details.from} to ${details.to}`;
    case "member.removed":
      return `${who} removed ${event.target?.name ?? "a member"}`;
    case "member.left":
      return `${event.target?.name ?? who} left`;
    case "invitation.revoked":
      return `${who} revoked the invitation of ${event.target?.name ?? "someone"}`;
    default:
      return `${who}: ${event.action} ${event.target ? what : ""}`.trim();
  }
}

export async function showActivity(main, organizationId) {
  const filters = { actions: null, actorId: null, targetId: null };
  const list = h("ol", { class: "activity", "aria-label": "Activity, newest first" });
  const more = h("button", { type: "button", class: "ghost", hidden: true }, "Show older events");
  const status = h("p", { class: "error", role: "alert" });
  let cursor = null;

  const load = async (append) => {
    status.textContent = "";
    more.disabled = true;
    try {
      const { organization } = await graphql(AUDIT, {
        id: organizationId,
        after: append ? cursor : null,
        actions: filters.actions,
        actorId: filters.actorId,
        targetId: filters.targetId,
      });
      const page = organization.auditEvents;
      const rows = page.edges.map(({ node }) => row(node, filters, reload));
      if (append) list.append(...rows);
      else list.replaceChildren(...rows);
      if (!append && rows.length === 0) list.append(h("li", { class: "muted" }, "No events."));
      cursor = page.pageInfo.endCursor;
      more.hidden = !page.pageInfo.hasNextPage;
    } catch (error) {
      if (error.code === "UNAUTHENTICATED") return;
      status.textContent =
        error.code === "FORBIDDEN"
          ? "Only owners and admins see the activity of an organization."
          : `The activity did not load: ${error.message}`;
    } finally {
      more.disabled = false;
    }
  };
  const reload = () => load(false);
  more.addEventListener("click", () => load(true));

  const action = h(
    "select",
    {
      id: "activity-action",
      onchange: () => {
        filters.actions = action.value ? [action.value] : null;
        reload();
      },
    },
    Object.entries(ACTIONS).map(([value, label]) => h("option", { value }, label)),
  );
  const chips = h("span", { class: "chips" });
  const showChips = () => {
    chips.replaceChildren(
      ...[
        filters.actorId && chip("Actor", filters, "actorId", reload, showChips),
        filters.targetId && chip("Key", filters, "targetId", reload, showChips),
      ].filter(Boolean),
    );
  };
  filters.onChange = showChips;

  main.replaceChildren(
    h(
      "div",
      { class: "page-head" },
      h(
        "div",
        {},
        h("h1", {}, "Activity"),
        h(
          "p",
          { class: "lead" },
          "Who changed what in this organization, and from where. Every entry is chained to the one before it, so a download proves the log is complete.",
        ),
      ),
      h(
        "div",
        { class: "downloads" },
        downloadButton(organizationId, "NDJSON", "application/x-ndjson", "ndjson", status),
        downloadButton(organizationId, "CSV", "text/csv", "csv", status),
      ),
    ),
    h(
      "div",
      { class: "filters" },
      h("label", { for: "activity-action" }, "Action"),
      action,
      chips,
    ),
    status,
    list,
    more,
  );
  await reload();
}

function chip(label, filters, name, reload, showChips) {
  return h(
    "button",
    {
      type: "button",
      class: "chip",
      "aria-label": `Remove the ${label.toLowerCase()} filter`,
      onclick: () => {
        filters[name] = null;
        showChips();
        reload();
      },
    },
    `${label}: ${filters[`${name}Label`] ?? filters[name]} ×`,
  );
}

function row(event, filters, reload) {
  const filterBy = (name, id, label) =>
    h(
      "button",
      {
        type: "button",
        class: "link",
        onclick: () => {
          filters[name] = id;
          filters[`${name}Label`] = label;
          filters.onChange();
          reload();
        },
      },
      label,
    );
  const where = [event.clientAddress, event.userAgent].filter(Boolean).join(" · ");
  return h(
    "li",
    { "data-action": event.action },
    h("p", { class: "what" }, describe(event)),
    h(
      "p",
      { class: "meta" },
      h("time", { datetime: event.occurredAt }, until(event.occurredAt)),
      event.actor.id && filterBy("actorId", event.actor.id, event.actor.name ?? event.actor.id),
      event.target?.type === "api_key" &&
        filterBy("targetId", event.target.id, event.target.name ?? event.target.id),
      where && h("span", { class: "muted" }, where),
      event.requestId && h("code", { class: "muted", title: "Request id" }, event.requestId),
    ),
  );
}

/** Download the whole log with the session's bearer token (a plain link cannot carry it). */
function downloadButton(organizationId, label, accept, extension, status) {
  return h(
    "button",
    {
      type: "button",
      class: "ghost",
      onclick: async () => {
        status.textContent = "";
        try {
          const response = await fetch(`/v1/organizations/${organizationId}/audit-events`, {
            headers: { Accept: accept, Authorization: `Bearer ${session.token()}` },
            cache: "no-store",
            credentials: "omit",
          });
          if (!response.ok) throw new Error(`keyward answered ${response.status}`);
          const url = URL.createObjectURL(await response.blob());
          const link = h("a", { href: url, download: `audit-${organizationId}.${extension}` });
          document.body.append(link);
          link.click();
          link.remove();
          setTimeout(() => URL.revokeObjectURL(url), 10_000);
        } catch (error) {
          status.textContent = `The download failed: ${error.message}`;
        }
      },
    },
    `Download ${label}`,
  );
}
