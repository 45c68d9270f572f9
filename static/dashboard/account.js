// The account pages: change your password and your notice mails (Account); and, before signing
// in, "Forgot password?" (a reset link by mail) and the page a reset link opens.

import { expect, graphql } from "./api.js";
import { field, formError, h, onSubmit } from "./dom.js";
import { NOTIFICATION_SETTINGS, UPDATE_NOTIFICATION_SETTINGS } from "./notice_api.js";
import { CHANGE_PASSWORD, REQUEST_PASSWORD_RESET, RESET_PASSWORD } from "./team_api.js";

const password = (autocomplete) =>
  h("input", { type: "password", required: true, autocomplete, minlength: 8, maxlength: 1024 });

export function showAccount(main, user) {
  const done = h("p", { class: "notice", role: "status", hidden: true });
  const form = onSubmit(
    h(
      "form",
      { method: "post", "aria-label": "Change password" },
      field({
        label: "Current password",
        name: "currentPassword",
        input: password("current-password"),
      }),
      field({
        label: "New password",
        name: "newPassword",
        hint: "At least 8 characters. Your other sessions end when it changes.",
        input: password("new-password"),
      }),
      h(
        "div",
        { class: "buttons" },
        formError(),
        h("button", { type: "submit", class: "primary" }, "Change password"),
      ),
    ),
    async (data) => {
      const input = {
        currentPassword: data.get("currentPassword"),
        newPassword: data.get("newPassword"),
      };
      const result = (await graphql(CHANGE_PASSWORD, { input })).changePassword;
      const { endedSessions } = expect(result, "PasswordChanged", {
        InvalidCredentials: "currentPassword",
      });
      form.reset();
      done.hidden = false;
      done.textContent =
        endedSessions === 1
          ? "Password changed. 1 other session was ended."
          : `Password changed. ${endedSessions} other sessions were ended.`;
    },
  );
  main.replaceChildren(
    h(
      "div",
      { class: "page-head" },
      h("div", {}, h("h1", { tabindex: -1, "data-focus": "main-heading" }, "Account"), h("p", { class: "lead" }, user.email)),
    ),
    done,
    h("section", { class: "card" }, h("h2", {}, "Password"), form),
    notifications(),
  );
}

/** The expiry-notice toggle: saved as soon as it changes, the outcome said in words. */
function notifications() {
  const status = h("p", { class: "hint", role: "status" });
  const toggle = h("input", {
    type: "checkbox",
    name: "expiryNotices",
    disabled: true,
    onchange: async () => {
      const wanted = toggle.checked;
      toggle.disabled = true;
      status.textContent = "Saving…";
      try {
        const input = { expiryNotices: wanted };
        const result = (await graphql(UPDATE_NOTIFICATION_SETTINGS, { input }))
          .updateNotificationSettings;
        const { notificationSettings } = expect(result, "NotificationSettingsUpdated");
        toggle.checked = notificationSettings.expiryNotices;
        status.textContent = toggle.checked
          ? "Saved: expiry notices will reach you by mail."
          : "Saved: no expiry notices by mail.";
      } catch (error) {
        toggle.checked = !wanted;
        status.textContent = error.message;
      } finally {
        toggle.disabled = false;
      }
    },
  });
  graphql(NOTIFICATION_SETTINGS)
    .then(({ me }) => {
      toggle.checked = me.notificationSettings.expiryNotices;
      toggle.disabled = false;
    })
    .catch((error) => {
      status.textContent = error.message;
    });
  return h(
    "section",
    { class: "card", "aria-labelledby": "notifications-heading" },
    h("h2", { id: "notifications-heading" }, "Notifications"),
    h(
      "label",
      { class: "choice" },
      toggle,
      h(
        "span",
        {},
        h("strong", {}, "Mail me before a key expires"),
        h(
          "span",
          { class: "hint" },
          "For the organizations you own or administer: 30 days, 7 days and 1 day before a " +
            "key stops working, and 1 hour before a rolled key's grace period ends.",
        ),
      ),
    ),
    status,
  );
}

function authPage(root, title, ...content) {
  root.replaceChildren(
    h("main", { class: "auth" }, h("div", { class: "card" }, h("h1", {}, title), ...content)),
  );
  root.querySelector("input")?.focus();
}

/** "Forgot password?": ask for a reset link; `back()` returns to the sign-in form. */
export function showForgotPassword(root, { back }) {
  const form = onSubmit(
    h(
      "form",
      { method: "post", "aria-label": "Reset password" },
      field({
        label: "Email",
        name: "email",
        input: h("input", {
          type: "email",
          required: true,
          autocomplete: "username",
          maxlength: 254,
        }),
      }),
      h("button", { type: "submit", class: "primary wide" }, "Mail me a reset link"),
      formError(),
    ),
    async (data) => {
      const input = { email: data.get("email") };
      const result = (await graphql(REQUEST_PASSWORD_RESET, { input })).requestPasswordReset;
      expect(result, "PasswordResetRequested");
      authPage(
        root,
        "Check your mail",
        h(
          "p",
          { role: "status" },
          `If an account has the email ${input.email}, a link to reset its password is on its `,
          "way. It works once, for one hour.",
        ),
        h("button", { type: "button", class: "wide", onclick: back }, "Back to sign in"),
      );
    },
  );
  authPage(
    root,
    "Forgot password?",
    form,
    h("button", { type: "button", class: "ghost wide", onclick: back }, "Back to sign in"),
  );
}

/** The page a reset link opens: a new password for the token; `done(notice)` goes to sign-in. */
export function showResetPassword(root, token, { done }) {
  const form = onSubmit(
    h(
      "form",
      { method: "post", "aria-label": "Choose a new password" },
      field({
        label: "New password",
        name: "newPassword",
        hint: "At least 8 characters. Every session of your account ends.",
        input: password("new-password"),
      }),
      h("button", { type: "submit", class: "primary wide" }, "Set new password"),
      formError(),
    ),
    async (data) => {
      const input = { token, newPassword: data.get("newPassword") };
      const result = (await graphql(RESET_PASSWORD, { input })).resetPassword;
      expect(result, "PasswordReset", { ResetTokenInvalid: "form" });
      done("Your password is reset. Sign in with the new one.");
    },
  );
  authPage(root, "Choose a new password", form);
}
