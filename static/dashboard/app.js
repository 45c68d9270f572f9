// keyward's dashboard: sign up, sign in and out, organizations, and their API keys.
// Plain modern JavaScript modules, no framework and no build step: see the README.

import {
  CREATE_ORGANIZATION,
  ME,
  SIGN_IN,
  SIGN_OUT,
  SIGN_UP,
  expect,
  graphql,
  onSessionEnded,
  session,
} from "./api.js";
import { openDialog } from "./dialog.js";
import { field, formError, h, onSubmit } from "./dom.js";
import { showKeys } from "./keys.js";
import { showAccount } from "./account.js";
import { showActivity } from "./activity.js";

const root = document.getElementById("app");

onSessionEnded((notice) => {
  for (const dialog of document.querySelectorAll("dialog")) dialog.close();
  showAuth({ notice });
});

async function boot() {
  if (!session.token()) return showAuth();
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
        h("button", { type: "button", class: "primary", onclick: boot }, "Try again"),
      ),
    );
  }
}

// -- signing in and up --

function showAuth({ notice = null, mode = "signIn" } = {}) {
  const signIn = onSubmit(
    h(
      "form",
      { method: "post", "aria-label": "Sign in" },
      field({ label: "Email", name: "email", input: emailInput("username") }),
      field({ label: "Password", name: "password", input: passwordInput("current-password") }),
      h("button", { type: "submit", class: "primary wide" }, "Sign in"),
      formError(),
    ),
    async (data) => {
      const input = { email: data.get("email"), password: data.get("password") };
      const result = expect((await graphql(SIGN_IN, { input })).signIn, "SignedIn");
      session.start(result.sessionToken);
      enter(result.user);
    },
  );
  const signUp = onSubmit(
    h(
      "form",
      { method: "post", "aria-label": "Create account" },
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
        input: h("input", { type: "text", maxlength: 100, placeholder: "My organization" }),
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
      enter(result.user);
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
      h("div", { class: "brand big" }, logo(), "keyward"),
      h("p", { class: "lead" }, "API keys for your organization: public, secret, rolled, revoked."),
      h(
        "div",
        { class: "card" },
        notice && h("p", { class: "notice", role: "status" }, notice),
        tabs,
        signIn,
        signUp,
      ),
    ),
  );
  select(mode);
}

const emailInput = (autocomplete) =>
  h("input", { type: "email", required: true, autocomplete, maxlength: 254 });
const passwordInput = (autocomplete) =>
  h("input", { type: "password", required: true, autocomplete });
const logo = () =>
  h("img", { src: "/static/dashboard/favicon.svg", alt: "", width: 24, height: 24 });

// -- the signed-in shell: organization switcher, account, the API keys page --

let state = { user: null, organizations: [] };

function enter(user) {
  state = { user, organizations: [...user.organizations] };
  const stored = session.organizationId();
  const current = state.organizations.find((o) => o.id === stored) ?? state.organizations[0];
  render(current);
}

function render(current) {
  if (current) session.chooseOrganization(current.id);
  const switcher = h(
    "select",
    {
      id: "organization",
      onchange: (event) => {
        render(state.organizations.find((o) => o.id === event.target.value));
      },
    },
    state.organizations.map((o) => h("option", { value: o.id, selected: o === current }, o.name)),
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
        h("span", { class: "email" }, state.user.email),
        h(
          "button",
          { type: "button", class: "ghost", onclick: () => signOut(signOutError) },
          "Sign out",
        ),
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
        h("a", { href: "#api-keys", "aria-current": "page" }, "API keys"),
        h("a", { href: "#activity" }, "Activity"),
        h("a", { href: "#account" }, "Account"),
      ),
      main,
    ),
  );
  shown = { main, current };
  showPage();
}

// -- pages by the URL's hash: #api-keys (the default), #activity, #account --

let shown = null;

function showPage() {
  if (!shown) return;
  const { main, current } = shown;
  const hash = location.hash || "#api-keys";
  for (const link of root.querySelectorAll(".sidebar a")) {
    if (link.getAttribute("href") === hash) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  if (hash === "#account") return showAccount(main);
  if (!current) {
    main.replaceChildren(h("p", {}, "You belong to no organization yet: create one."));
    return;
  }
  if (hash === "#activity") return showActivity(main, current.id);
  showKeys(main, current.id);
}

window.addEventListener("hashchange", showPage);

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
          maxlength: 100,
          autocomplete: "organization",
        }),
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
      dialog.close();
      render(organization);
    },
  );
  const dialog = openDialog("New organization", form);
}

boot();
