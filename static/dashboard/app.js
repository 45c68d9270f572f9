// keyward's dashboard: sign up, sign in and out, organizations, their API keys, members and
// settings, and the account. Plain modern JavaScript modules, no framework and no build step:
// see the README.

import {
  ApiError,
  CREATE_ORGANIZATION,
  ME,
  SIGN_IN,
  SIGN_OUT,
  SIGN_UP,
  can,
  expect,
  graphql,
  onSessionEnded,
  session,
} from "./api.js";
import { showAccount, showForgotPassword, showResetPassword } from "./account.js";
import { focusByName, openDialog } from "./dialog.js";
import { duration, field, formError, h, onSubmit } from "./dom.js";
import { captureLinks, pendingInvitation, showInvitation } from "./invitation.js";
import { showKey } from "./key_page.js";
import { showKeys } from "./keys.js";
import { showMembers } from "./members.js";
import { menuButton } from "./menu.js";
import {
  ACCOUNT_PATH,
  activityPath,
  currentRoute,
  keysPath,
  linkTo,
  membersPath,
  navigate,
  onRoute,
  redraw,
  settingsPath,
  webhooksPath,
} from "./router.js";
import { showGeneral } from "./settings.js";
import { showSecurityLog } from "./security.js";
import { showActivity } from "./activity.js";
import { MANAGE_WEBHOOKS, showWebhooks } from "./webhooks.js";

const root = document.getElementById("app");

// A session that ends while a dialog is open keeps the dialog and all that was typed in it: it
// steps aside for sign-in and comes back, as it was, once the same person has signed in again.
let suspended = null; // { email, dialogs }

onSessionEnded((notice) => {
  const dialogs = [...document.querySelectorAll("dialog[open]")];
  for (const dialog of dialogs) {
    dialog.dataset.suspended = "true";
    dialog.close();
  }
  const kept = dialogs.length > 0;
  suspended = kept ? { email: state.user?.email, dialogs } : null;
  showAuth({
    notice: kept ? `${notice} What you typed is kept: it comes back once you have.` : notice,
    warning: true,
    email: state.user?.email ?? "",
  });
});

function resumeDialogs(user) {
  const resumed = suspended?.email === user.email ? suspended.dialogs : [];
  suspended = null;
  for (const dialog of resumed) {
    delete dialog.dataset.suspended;
    document.body.append(dialog);
    dialog.showModal();
    dialog.querySelector("[data-error-for=form]")?.replaceChildren();
    dialog.querySelector("form input, form select, button")?.focus();
  }
}

/** Start, or start again once an invitation is answered; a mailed link is taken first. */
async function boot() {
  onRoute(showRoute);
  const link = captureLinks();
  if (link.reset) {
    return showResetPassword(root, link.reset, { done: (notice) => showAuth({ notice }) });
  }
  if (!session.token()) {
    if (!link.invitation) return showAuth();
    return showAuth({
      notice: "Sign in, or create an account, with the invited email to accept the invitation.",
    });
  }
  root.replaceChildren(h("p", { class: "loading" }, "Loading…"));
  try {
    const { me } = await graphql(ME);
    if (!me) {
      session.end();
      return showAuth();
    }
    enter(me);
  } catch (error) {
    if (error.code === "UNAUTHENTICATED") return;
    root.replaceChildren(
      h(
        "div",
        { class: "card center" },
        h("p", { class: "error", role: "alert" }, error.message),
        h("button", { type: "button", class: "primary", onclick: () => location.reload() }, "Try again"),
      ),
    );
  }
}

// -- signing in and up --

function showAuth({ notice = null, warning = false, mode = "signIn", email = "" } = {}) {
  const noticeElement =
    notice && h("p", { class: warning ? "warning" : "notice", role: "status" }, notice);
  // a notice is about what happened before: it goes once the person does something new
  const dropNotice = () => noticeElement?.remove();
  const signIn = onSubmit(
    h(
      "form",
      { method: "post", "aria-label": "Sign in", onsubmit: dropNotice },
      field({ label: "Email", name: "email", input: emailInput("username", email) }),
      field({ label: "Password", name: "password", input: passwordInput("current-password") }),
      h("button", { type: "submit", class: "primary wide" }, "Sign in"),
      formError(),
      h(
        "button",
        {
          type: "button",
          class: "ghost wide",
          onclick: () => showForgotPassword(root, { back: () => showAuth() }),
        },
        "Forgot password?",
      ),
    ),
    async (data) => {
      const input = { email: data.get("email"), password: data.get("password") };
      const result = (await graphql(SIGN_IN, { input })).signIn;
      if (result.__typename === "TooManyAttempts") {
        throw new ApiError(
          `Too many failed sign-ins for this email or network. Try again in ${waitWords(result.retryAfterSeconds)}.`,
          { code: "TooManyAttempts" },
        );
      }
      const signedIn = expect(result, "SignedIn");
      session.start(signedIn.sessionToken);
      await enter(signedIn.user);
      resumeDialogs(signedIn.user);
    },
  );
  const signUp = onSubmit(
    h(
      "form",
      { method: "post", "aria-label": "Create account", onsubmit: dropNotice },
      field({ label: "Email", name: "email", input: emailInput("username") }),
      field({
        label: "Password",
        name: "password",
        hint: "At least 8 characters.",
        input: passwordInput("new-password"),
      }),
      field({
        label: "Organization name",
        name: "organizationName",
        hint: "Optional. You can create more organizations later.",
        input: h("input", { type: "text", placeholder: "My organization" }),
        maxLength: 100,
      }),
      h("button", { type: "submit", class: "primary wide" }, "Create account"),
      formError(),
    ),
    async (data) => {
      const input = { email: data.get("email"), password: data.get("password") };
      if (data.get("organizationName").trim())
        input.organizationName = data.get("organizationName");
      const result = expect((await graphql(SIGN_UP, { input })).signUp, "SignedIn", {
        EmailTaken: "email",
      });
      session.start(result.sessionToken);
      suspended = null;
      await enter(result.user);
    },
  );
  const tabs = h("div", { class: "tabs", role: "tablist" });
  const select = (which) => {
    signIn.hidden = which !== "signIn";
    signUp.hidden = which !== "signUp";
    for (const tab of tabs.children) {
      tab.setAttribute("aria-selected", String(tab.dataset.mode === which));
    }
    (which === "signIn" ? signIn : signUp).querySelector("input").focus();
  };
  tabs.append(
    h(
      "button",
      { type: "button", role: "tab", "data-mode": "signIn", onclick: () => select("signIn") },
      "Sign in",
    ),
    h(
      "button",
      { type: "button", role: "tab", "data-mode": "signUp", onclick: () => select("signUp") },
      "Create account",
    ),
  );
  root.replaceChildren(
    h(
      "main",
      { class: "auth" },
      h("h1", { class: "brand big" }, logo(), "keyward"),
      h("p", { class: "lead" }, "API keys for your organization: public, secret, rolled, revoked."),
      h(
        "div",
        { class: "card" },
        noticeElement,
        tabs,
        signIn,
        signUp,
      ),
    ),
  );
  select(mode);
}

const emailInput = (autocomplete, value = "") =>
  h("input", { type: "email", required: true, autocomplete, maxlength: 254, value });

/** "15 minutes", "1 minute", "40 seconds": how long a throttled sign-in waits. */
function waitWords(seconds) {
  if (seconds < 60) return seconds === 1 ? "1 second" : `${seconds} seconds`;
  const minutes = Math.ceil(seconds / 60);
  if (minutes < 120) return minutes === 1 ? "1 minute" : `${minutes} minutes`;
  return duration(Math.ceil(seconds / 3600) * 3600);
}
const passwordInput = (autocomplete) =>
  h("input", { type: "password", required: true, autocomplete });
const logo = () =>
  h("img", { src: "/static/dashboard/favicon.svg", alt: "", width: 24, height: 24 });

// -- the signed-in shell: organization switcher, account, the API keys page --

let state = { user: null, organizations: [] };

/**
 * Signed in as `user`: a pending invitation first, then the organization and page the address
 * names, else a default.
 */
function enter(user) {
  if (pendingInvitation()) {
    state = { user: null, organizations: [] }; // no page behind the invitation meanwhile
    return showInvitation(root, {
      user,
      onDone: (organizationId) => {
        if (organizationId) {
          session.chooseOrganization(organizationId);
          history.replaceState(null, "", keysPath(organizationId));
        }
        boot();
      },
    });
  }
  state = { user, organizations: user.organizations.edges.map((edge) => edge.node) };
  const route = currentRoute();
  const named = state.organizations.find((o) => o.id === route.organizationId);
  if (named || route.page === "account") return showRoute(route);
  const current = storedOrganization();
  if (!current) return render(null, route);
  return navigate(keysPath(current.id), { replace: true });
}

/** The organization chosen last in this tab, else the first. */
function storedOrganization() {
  const stored = session.organizationId();
  return state.organizations.find((o) => o.id === stored) ?? state.organizations[0];
}

function showRoute(route) {
  if (!state.user || !session.token()) return undefined;
  // Account belongs to no organization: the navigation shows the one chosen last
  if (route.page === "account") return render(storedOrganization(), route);
  const current = state.organizations.find((o) => o.id === route.organizationId);
  if (!current && state.organizations.length) {
    return navigate(keysPath(state.organizations[0].id), { replace: true });
  }
  return render(current, route);
}

/** The switcher's label for an organization: its name, and when two share it, its start date. */
function organizationLabel(organization) {
  const twins = state.organizations.filter((o) => o.name === organization.name);
  if (twins.length < 2) return organization.name;
  const created = new Date(organization.createdAt).toLocaleDateString(undefined, {
    year: "numeric",
    month: "short",
    day: "numeric",
  });
  const sameDay = twins.filter(
    (o) => new Date(o.createdAt).toDateString() === new Date(organization.createdAt).toDateString(),
  );
  const id = sameDay.length > 1 ? `, ${organization.id.slice(0, 8)}` : "";
  return `${organization.name} (created ${created}${id})`;
}

// The organization's pages in the left navigation (Account sits in the account menu); a page
// with a permission is listed only for those the API says hold it.
const PAGES = [
  ["keys", "API keys", keysPath],
  ["members", "Members", membersPath],
  ["settings", "General", settingsPath],
  ["activity", "Activity", activityPath],
  ["webhooks", "Webhooks", webhooksPath, MANAGE_WEBHOOKS],
];
const pagesFor = (organization) =>
  PAGES.filter(([, , , permission]) => !permission || can(organization, permission));

function render(current, route) {
  if (current) session.chooseOrganization(current.id);
  // focus on the shell (a navigation link, the account menu) stays there when it is redrawn
  const active = document.activeElement;
  const focused = active?.closest(".topbar, .sidebar") ? active.dataset.focus : null;
  if (route.page === "account") document.title = "Account · keyward";
  else if (!current) document.title = "keyward";
  else {
    const [, title] = PAGES.find(([page]) => page === route.page);
    document.title = `${title} · ${current.name} · keyward`;
  }
  const switcher = h(
    "select",
    {
      id: "organization",
      "data-focus": "organization",
      onchange: (event) => navigate(keysPath(event.target.value)),
    },
    state.organizations.map((o) =>
      h("option", { value: o.id, selected: o === current }, organizationLabel(o)),
    ),
  );
  const signOutError = h("span", { class: "error", role: "alert" });
  const main = h("main", { class: "content", id: "main" });
  root.replaceChildren(
    h(
      "header",
      { class: "topbar" },
      h("div", { class: "brand" }, logo(), "keyward"),
      h(
        "div",
        { class: "switcher" },
        h("label", { for: "organization" }, "Organization"),
        switcher,
        h(
          "button",
          { type: "button", class: "ghost", onclick: newOrganization },
          "New organization",
        ),
      ),
      h(
        "div",
        { class: "account" },
        menuButton({
          label: `Account menu of ${state.user.email}`,
          text: state.user.email,
          className: "ghost email",
          focusName: "account-menu",
          items: [
            {
              label: "Settings",
              action: () => navigate(keysPath(current.id)),
              disabled: current ? null : "You belong to no organization yet.",
            },
            { label: "Account", action: () => navigate(ACCOUNT_PATH) },
            { label: "Sign out", action: () => signOut(signOutError) },
          ],
        }),
        signOutError,
      ),
    ),
    h(
      "div",
      { class: "layout" },
      h(
        "nav",
        { class: "sidebar", "aria-label": "Organization settings" },
        h("p", { class: "section" }, current ? current.name : "No organization"),
        ...(current ? pagesFor(current) : []).map(([page, label, path]) =>
          linkTo(
            h,
            path(current.id),
            {
              "aria-current": page === route.page && !route.keyId ? "page" : null,
              "data-focus": `nav:${page}`,
            },
            label,
          ),
        ),
      ),
      main,
    ),
  );
  if (focused) focusByName(focused);
  if (route.page === "account") {
    showAccount(main, state.user);
    return showSecurityLog(main);
  }
  if (!current) {
    main.replaceChildren(h("p", {}, "You belong to no organization yet: create one."));
    return undefined;
  }
  if (route.page === "members") {
    return showMembers(main, current.id, { user: state.user, onLeft: () => forget(current) });
  }
  if (route.page === "settings") {
    return showGeneral(main, current.id, {
      onRenamed: (renamed) => {
        current.name = renamed.name;
        return redraw();
      },
      onDeleted: () => forget(current),
    });
  }
  if (route.page === "activity") return showActivity(main, current.id);
  if (route.page === "webhooks") return showWebhooks(main, current.id);
  if (route.keyId) return showKey(main, current.id, route.keyId);
  return showKeys(main, current.id, route.params);
}

/** The viewer left `organization`, or deleted it: on to the next one, if any. */
function forget(organization) {
  state.organizations = state.organizations.filter((o) => o !== organization);
  const next = state.organizations[0];
  return navigate(next ? keysPath(next.id) : "/", { replace: true });
}

async function signOut(errorSlot) {
  errorSlot.textContent = "";
  try {
    await graphql(SIGN_OUT);
  } catch (error) {
    if (error.code === "UNAUTHENTICATED") return; // already ended: back at sign-in
    errorSlot.textContent = `Not signed out: ${error.message}`;
    return;
  }
  session.end();
  showAuth({ notice: "You are signed out." });
}

function newOrganization() {
  const form = onSubmit(
    h(
      "form",
      { method: "post" },
      field({
        label: "Name",
        name: "name",
        input: h("input", {
          type: "text",
          required: true,
          autocomplete: "organization",
        }),
        maxLength: 100,
      }),
      h("p", { class: "hint" }, "It starts with its own public Default API Key."),
      h(
        "div",
        { class: "buttons" },
        formError(),
        h("button", { type: "submit", class: "primary" }, "Create organization"),
      ),
    ),
    async (data) => {
      const input = { name: data.get("name") };
      const result = (await graphql(CREATE_ORGANIZATION, { input })).createOrganization;
      const { organization } = expect(result, "OrganizationCreated");
      state.organizations.push(organization);
      await navigate(keysPath(organization.id));
      dialog.close();
    },
  );
  const dialog = openDialog("New organization", form, { returnFocus: ["new-key", "main-heading"] });
}

boot();
