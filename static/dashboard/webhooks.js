// The Webhooks page: the organization's endpoints, the events each receives, its signing secret
// (shown once, with Copy, when it is made or rotated), "Send test event", and each endpoint's
// recent deliveries with status, response code, attempts, next attempt and "Retry". Shown to
// those the API says hold MANAGE_WEBHOOKS; the server decides again on every request.

import { expect, graphql } from "./api.js";
import { openDialog } from "./dialog.js";
import { field, formError, h, onSubmit, time, tokenBox } from "./dom.js";
import {
  CREATE_WEBHOOK_ENDPOINT,
  DELETE_WEBHOOK_ENDPOINT,
  RETRY_WEBHOOK_DELIVERY,
  ROTATE_WEBHOOK_SECRET,
  SEND_TEST_WEBHOOK,
  UPDATE_WEBHOOK_ENDPOINT,
  WEBHOOKS,
} from "./notice_api.js";

export const MANAGE_WEBHOOKS = "MANAGE_WEBHOOKS";
const ALL = "*";
// The event types an endpoint may subscribe to, as the API's createWebhookEndpoint takes them.
const EVENTS = [
  ["api_key.created", "A key was created"],
  ["api_key.rolled", "A key was rolled"],
  ["api_key.updated", "A key was renamed"],
  ["api_key.deleted", "A key was deleted"],
  ["api_key.expiring", "A key expires soon (30 days, 7 days, 1 day; a rolled key 1 hour)"],
  ["api_key.expired", "A key expired"],
  ["api_key.leaked", "A key was reported leaked"],
  ["member.joined", "A member joined"],
  ["member.removed", "A member was removed or left"],
  ["member.role_changed", "A member's role changed"],
];
const STATUS_LABELS = { PENDING: "Pending", SUCCEEDED: "Delivered", FAILED: "Failed" };
const STATUS_CLASSES = { PENDING: "status-rolled", SUCCEEDED: "status-active", FAILED: "status-failed" };

/** Show the webhook endpoints of `organizationId` in `main`. */
export async function showWebhooks(main, organizationId, { notice = null } = {}) {
  const load = (next = null) => showWebhooks(main, organizationId, { notice: next });
  if (!main.querySelector(".endpoint")) {
    main.replaceChildren(h("p", { class: "loading" }, "Loading webhooks…"));
  }
  let organization;
  try {
    ({ organization } = await graphql(WEBHOOKS, { id: organizationId }));
  } catch (error) {
    if (error.code === "UNAUTHENTICATED") return;
    const words =
      error.code === "FORBIDDEN" ? "Only owners and admins manage webhooks." : error.message;
    main.replaceChildren(h("p", { class: "error", role: "alert" }, words));
    return;
  }
  if (!organization) {
    main.replaceChildren(h("p", { class: "error" }, "This organization is not available to you."));
    return;
  }
  const errors = h("p", { class: "error", role: "alert" });
  const page = { organization, load, errors };
  const endpoints = organization.webhookEndpoints;
  main.replaceChildren(
    ...[
      h(
        "div",
        { class: "page-head" },
        h(
          "div",
          {},
          h("h1", { tabindex: -1, "data-focus": "main-heading" }, "Webhooks"),
          h(
            "p",
            { class: "lead" },
            `Signed HTTP calls to your systems when something happens in ${organization.name}.`,
          ),
        ),
        h(
          "button",
          {
            type: "button",
            class: "primary",
            "data-focus": "add-endpoint",
            onclick: () => editEndpoint(page, null),
          },
          "Add endpoint",
        ),
      ),
      notice && h("p", { class: "notice", role: "status" }, notice),
      errors,
      endpoints.length
        ? endpoints.map((endpoint) => endpointCard(endpoint, page))
        : h(
            "p",
            { class: "hint" },
            "No endpoint yet. Add one to receive events, signed as the Standard Webhooks ",
            "specification says (see the README for verifying them).",
          ),
    ]
      .flat()
      .filter(Boolean),
  );
}

function eventWords(events) {
  if (events.includes(ALL)) return "All events";
  return events.join(", ");
}

function endpointCard(endpoint, page) {
  const deliveries = endpoint.deliveries.edges.map((edge) => edge.node);
  const focus = (what) => `${what}:${endpoint.id}`;
  return h(
    "section",
    { class: "card endpoint", "aria-labelledby": `endpoint-${endpoint.id}` },
    h(
      "div",
      { class: "endpoint-head" },
      h("h2", { id: `endpoint-${endpoint.id}`, class: "endpoint-url" }, endpoint.url),
      h(
        "span",
        { class: `status ${endpoint.enabled ? "status-active" : "status-expired"}` },
        endpoint.enabled ? "Enabled" : "Disabled",
      ),
    ),
    endpoint.disabledReason &&
      h("p", { class: "warning" }, `Disabled: ${endpoint.disabledReason}`),
    h(
      "dl",
      { class: "endpoint-facts" },
      h("dt", {}, "Events"),
      h("dd", {}, eventWords(endpoint.events)),
      h("dt", {}, "Added"),
      h("dd", {}, time(endpoint.createdAt)),
    ),
    h(
      "div",
      { class: "buttons endpoint-actions" },
      h(
        "button",
        {
          type: "button",
          "data-focus": focus("test"),
          onclick: (event) => sendTest(endpoint, page, event.currentTarget),
        },
        "Send test event",
      ),
      h(
        "button",
        {
          type: "button",
          "data-focus": focus("edit"),
          "aria-label": `Edit ${endpoint.url}`,
          onclick: () => editEndpoint(page, endpoint),
        },
        "Edit",
      ),
      h(
        "button",
        {
          type: "button",
          "data-focus": focus("rotate"),
          "aria-label": `Rotate secret of ${endpoint.url}`,
          onclick: () => rotateSecret(endpoint, page),
        },
        "Rotate secret",
      ),
      h(
        "button",
        {
          type: "button",
          class: "danger",
          "aria-label": `Delete ${endpoint.url}`,
          onclick: () => deleteEndpoint(endpoint, page),
        },
        "Delete",
      ),
    ),
    h("h3", {}, "Recent deliveries"),
    deliveries.length
      ? h(
          "div",
          { class: "table-wrap" },
          h(
            "table",
            { class: "deliveries" },
            h("caption", { class: "visually-hidden" }, `Recent deliveries to ${endpoint.url}`),
            h(
              "thead",
              {},
              h(
                "tr",
                {},
                ["Event", "Status", "Response", "Attempts", "Next attempt", "Actions"].map(
                  (title) => h("th", { scope: "col" }, title),
                ),
              ),
            ),
            h("tbody", {}, deliveries.map((delivery) => deliveryRow(delivery, page))),
          ),
        )
      : h("p", { class: "hint" }, "Nothing sent yet. Send a test event to try the endpoint."),
  );
}

function deliveryRow(delivery, page) {
  const cell = (label, ...content) => h("td", { "data-label": label }, ...content);
  const response =
    delivery.lastResponseStatus === null
      ? h("span", { class: "muted" }, delivery.lastError ?? "None yet")
      : h(
          "span",
          {},
          `HTTP ${delivery.lastResponseStatus}`,
          delivery.lastError && h("span", { class: "hint delivery-error" }, delivery.lastError),
        );
  return h(
    "tr",
    { "data-status": delivery.status },
    h(
      "th",
      { scope: "row" },
      h("span", { class: "event-type" }, delivery.eventType),
      h("span", { class: "hint" }, time(delivery.lastAttemptAt, { empty: "Not tried yet" })),
    ),
    cell(
      "Status",
      h("span", { class: `status ${STATUS_CLASSES[delivery.status]}` }, STATUS_LABELS[delivery.status]),
    ),
    cell("Response", response),
    cell("Attempts", String(delivery.attempts)),
    cell("Next attempt", time(delivery.nextAttemptAt, { empty: "—" })),
    cell(
      "Actions",
      delivery.status === "SUCCEEDED"
        ? null
        : h(
            "button",
            {
              type: "button",
              "data-focus": `retry:${delivery.id}`,
              "aria-label": `Retry the ${delivery.eventType} delivery`,
              onclick: (event) => retry(delivery, page, event.currentTarget),
            },
            "Retry",
          ),
    ),
  );
}

/** Run `action` from `button`: disabled meanwhile, a failure said on the page. */
async function act(page, button, action) {
  page.errors.textContent = "";
  button.disabled = true;
  try {
    await action();
  } catch (error) {
    page.errors.textContent = error.message;
  } finally {
    button.disabled = false;
  }
}

function sendTest(endpoint, page, button) {
  return act(page, button, async () => {
    const input = { id: endpoint.id };
    expect((await graphql(SEND_TEST_WEBHOOK, { input })).sendTestWebhook, "TestWebhookSent");
    await page.load(`A test event is on its way to ${endpoint.url}.`);
  });
}

function retry(delivery, page, button) {
  return act(page, button, async () => {
    const input = { id: delivery.id };
    const result = (await graphql(RETRY_WEBHOOK_DELIVERY, { input })).retryWebhookDelivery;
    expect(result, "WebhookDeliveryRetried");
    await page.load(`The ${delivery.eventType} delivery is due again now.`);
  });
}

function eventChecklist(selected) {
  const all = selected.includes(ALL);
  const boxes = EVENTS.map(([value, label]) =>
    h(
      "label",
      { class: "choice" },
      h("input", {
        type: "checkbox",
        name: "events",
        value,
        checked: all || selected.includes(value),
        disabled: all,
      }),
      h("span", {}, h("code", {}, value), h("span", { class: "hint" }, label)),
    ),
  );
  const everything = h("input", {
    type: "checkbox",
    name: "events",
    value: ALL,
    checked: all,
    onchange: (event) => {
      for (const box of boxes) {
        const input = box.querySelector("input");
        input.disabled = event.target.checked;
        if (event.target.checked) input.checked = true;
      }
    },
  });
  return h(
    "fieldset",
    { class: "field events" },
    h("legend", {}, "Events"),
    h(
      "label",
      { class: "choice" },
      everything,
      h(
        "span",
        {},
        h("strong", {}, "All events"),
        h("span", { class: "hint" }, "Including those added later."),
      ),
    ),
    boxes,
    h("p", { class: "error", "data-error-for": "events", role: "alert" }),
  );
}

/** Add an endpoint (`endpoint` null) or change one; a new endpoint's secret is shown once. */
function editEndpoint(page, endpoint) {
  const urlInput = h("input", {
    type: "url",
    required: true,
    autocomplete: "off",
    placeholder: "https://example.com/webhooks/keyward",
    value: endpoint?.url ?? "",
  });
  const enabled =
    endpoint &&
    h(
      "label",
      { class: "choice" },
      h("input", { type: "checkbox", name: "enabled", checked: endpoint.enabled }),
      h(
        "span",
        {},
        h("strong", {}, "Enabled"),
        h("span", { class: "hint" }, "Events go out to this endpoint."),
      ),
    );
  const form = onSubmit(
    h(
      "form",
      { method: "post", "aria-label": endpoint ? "Edit endpoint" : "Add endpoint" },
      field({
        label: "URL",
        name: "url",
        hint: "Where keyward POSTs events: https, on a public address.",
        input: urlInput,
      }),
      eventChecklist(endpoint?.events ?? [ALL]),
      enabled,
      h(
        "div",
        { class: "buttons" },
        formError(),
        h("button", { type: "submit", class: "primary" }, endpoint ? "Save endpoint" : "Add endpoint"),
      ),
    ),
    async (data) => {
      const events = data.getAll("events");
      const input = { url: data.get("url"), events: events.includes(ALL) ? [ALL] : events };
      if (endpoint) {
        input.id = endpoint.id;
        input.enabled = data.get("enabled") === "on";
        const result = (await graphql(UPDATE_WEBHOOK_ENDPOINT, { input })).updateWebhookEndpoint;
        expect(result, "WebhookEndpointUpdated");
        dialog.close();
        await page.load(`${input.url} is saved.`);
        return;
      }
      input.organizationId = page.organization.id;
      const result = (await graphql(CREATE_WEBHOOK_ENDPOINT, { input })).createWebhookEndpoint;
      const created = expect(result, "WebhookEndpointCreated");
      showSecret(dialog, "Endpoint added", created.secret, page);
    },
  );
  const dialog = openDialog(endpoint ? "Edit endpoint" : "Add endpoint", form, {
    returnFocus: [endpoint ? `edit:${endpoint.id}` : "add-endpoint", "main-heading"],
  });
}

/** The signing secret, once, with Copy; the page behind the dialog shows the endpoint. */
function showSecret(dialog, title, secret, page) {
  const done = h(
    "button",
    {
      type: "button",
      class: "primary",
      onclick: () => dialog.close(),
    },
    "Done",
  );
  dialog.show(
    title,
    h(
      "p",
      { class: "warning" },
      "Copy the signing secret now: it is shown only this once. Your receiver verifies each ",
      "call's webhook-signature header with it.",
    ),
    tokenBox(secret, { label: "signing secret" }),
    h("div", { class: "buttons" }, done),
  );
  page.load();
}

function rotateSecret(endpoint, page) {
  const form = onSubmit(
    h(
      "form",
      { method: "post", "aria-label": "Rotate secret" },
      h(
        "p",
        {},
        `A new signing secret for ${endpoint.url}. For 24 hours every call carries two `,
        "signatures, by the old secret and the new one, so your receiver can switch without a gap.",
      ),
      h(
        "div",
        { class: "buttons" },
        formError(),
        h("button", { type: "submit", class: "primary" }, "Rotate secret"),
      ),
    ),
    async () => {
      const input = { id: endpoint.id };
      const result = (await graphql(ROTATE_WEBHOOK_SECRET, { input })).rotateWebhookSecret;
      const rotated = expect(result, "WebhookSecretRotated");
      showSecret(dialog, "Secret rotated", rotated.secret, page);
    },
  );
  const dialog = openDialog("Rotate secret", form, {
    returnFocus: [`rotate:${endpoint.id}`, "main-heading"],
  });
}

function deleteEndpoint(endpoint, page) {
  const form = onSubmit(
    h(
      "form",
      { method: "post", "aria-label": "Delete endpoint" },
      h("p", {}, `${endpoint.url} stops receiving events, and its deliveries are deleted.`),
      h(
        "div",
        { class: "buttons" },
        formError(),
        h("button", { type: "submit", class: "danger" }, "Delete endpoint"),
      ),
    ),
    async () => {
      const input = { id: endpoint.id };
      const result = (await graphql(DELETE_WEBHOOK_ENDPOINT, { input })).deleteWebhookEndpoint;
      expect(result, "WebhookEndpointDeleted");
      dialog.close();
      await page.load(`${endpoint.url} is deleted.`);
    },
  );
  const dialog = openDialog("Delete endpoint", form, {
    returnFocus: ["add-endpoint", "main-heading"],
  });
}
