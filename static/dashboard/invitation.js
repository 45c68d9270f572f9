// Links mailed by keyward carry their token in the URL's fragment (#invitation=… or #reset=…),
// which the browser never sends to a server. captureLinks() takes it out of the address bar at
// once; an invitation token waits in sessionStorage (this tab only) while its person signs in
// or up, then the invitation page accepts it.

import { expect, graphql } from "./api.js";
import { h } from "./dom.js";
import { ACCEPT_INVITATION } from "./team_api.js";

const INVITATION = "keyward.invitation";

/** The reset token of a reset link, if one opened the page; stores an invitation's token. */
export function captureLinks() {
  const params = new URLSearchParams(location.hash.slice(1));
  const invitation = params.get("invitation");
  const reset = params.get("reset");
  if (invitation) sessionStorage.setItem(INVITATION, invitation);
  if (invitation || reset) history.replaceState(null, "", location.pathname + location.search);
  return { reset, invitation: pendingInvitation() };
}

export const pendingInvitation = () => sessionStorage.getItem(INVITATION);

/** The invitation page, for a signed-in `user`: `onDone(organizationId | null)` goes on. */
export function showInvitation(root, { user, onDone }) {
  const token = pendingInvitation();
  const status = h("p", { class: "error", role: "alert" });
  const forget = () => sessionStorage.removeItem(INVITATION);
  const accept = async () => {
    status.textContent = "";
    let accepted;
    try {
      const result = (await graphql(ACCEPT_INVITATION, { input: { token } })).acceptInvitation;
      accepted = expect(result, "InvitationAccepted");
    } catch (error) {
      if (error.code === "UNAUTHENTICATED") return;
      forget();
      status.textContent =
        error.code === "InvitationNotFound"
          ? `This invitation is not for ${user.email}, or it was used, revoked or has expired. ` +
            "Ask for a new one, or sign in with the invited email."
          : error.message;
      return;
    }
    forget();
    onDone(accepted.organization.id);
  };
  root.replaceChildren(
    h(
      "main",
      { class: "auth" },
      h(
        "div",
        { class: "card" },
        h("h1", {}, "You are invited"),
        h("p", {}, `Join the organization that invited you, as ${user.email}.`),
        status,
        h(
          "button",
          { type: "button", class: "primary wide", onclick: accept },
          "Accept invitation",
        ),
        h(
          "button",
          { type: "button", class: "ghost wide", onclick: () => (forget(), onDone(null)) },
          "Not now",
        ),
      ),
    ),
  );
  root.querySelector("button.primary").focus();
}
