// The Account page's security log: where and when the signed-in person's account was used
// (sign-ins, failed sign-ins, sign-outs, ended sessions, password changes), newest first.

import { graphql } from "./api.js";
import { h, until } from "./dom.js";

const SECURITY = `query Security($after: String) {
  me { email securityEvents(first: 50, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { node { id occurredAt action clientAddress userAgent requestId } }
  } }
}`;

const WORDS = {
  "user.signed_up": "Account created",
  "user.signed_in": "Signed in",
  "user.sign_in_failed": "Failed sign-in (wrong password)",
  "user.signed_out": "Signed out",
  "session.ended": "A session was ended",
  "user.password_changed": "Password changed",
  "user.password_reset": "Password reset",
  "user.password_reset_requested": "Password reset link requested",
  "user.notification_settings_changed": "Notification settings changed",
};

/** Append the security log to the Account page in `main`. */
export async function showSecurityLog(main) {
  const list = h("ol", { class: "activity", "aria-label": "Security log, newest first" });
  const more = h("button", { type: "button", class: "ghost", hidden: true }, "Show older events");
  const status = h("p", { class: "error", role: "alert" });
  let cursor = null;
  const load = async (append) => {
    try {
      const { me } = await graphql(SECURITY, { after: append ? cursor : null });
      const page = me.securityEvents;
      const rows = page.edges.map(({ node }) =>
        h(
          "li",
          { "data-action": node.action },
          h("p", { class: "what" }, WORDS[node.action] ?? node.action),
          h(
            "p",
            { class: "meta" },
            h("time", { datetime: node.occurredAt }, until(node.occurredAt)),
            h("span", { class: "muted" }, [node.clientAddress, node.userAgent].filter(Boolean).join(" · ")),
          ),
        ),
      );
      if (append) list.append(...rows);
      else list.replaceChildren(...rows);
      cursor = page.pageInfo.endCursor;
      more.hidden = !page.pageInfo.hasNextPage;
    } catch (error) {
      if (error.code !== "UNAUTHENTICATED") status.textContent = error.message;
    }
  };
  more.addEventListener("click", () => load(true));
  main.append(
    h(
      "section",
      { class: "security-log", "aria-labelledby": "security-log-heading" },
      h("h2", { id: "security-log-heading" }, "Security log"),
      h(
        "p",
        { class: "lead" },
        "Where and when your account was used. A sign-in you do not recognise? End its session and change your password.",
      ),
      status,
      list,
      more,
    ),
  );
  await load(false);
}
