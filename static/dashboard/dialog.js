// Modal dialogs on the native <dialog> element: focus is trapped and Escape closes them.
// A dialog opens with focus on its first field (not on ×), and when it closes focus goes back to
// what opened it: found again by its `data-focus` name, since the page may have been redrawn
// meanwhile, or to the first of `fallbacks` still on the page (say, the next row's "…").

import { h, uniqueId } from "./dom.js";

/** Focus the element named `data-focus="<name>"`, or the first fallback name found. */
export function focusByName(...names) {
  for (const name of names.filter(Boolean)) {
    const target = [...document.querySelectorAll(`[data-focus="${CSS.escape(name)}"]`)].find(
      (candidate) => !candidate.disabled && !candidate.closest("[hidden]"),
    );
    if (target) {
      target.focus();
      return true;
    }
  }
  return false;
}

/** Put focus on the first field of `container`, else its first button. */
export function focusFirstField(container) {
  const target =
    container.querySelector("input:not([type=hidden]):not([disabled]), select, textarea") ??
    container.querySelector("button:not([disabled])");
  target?.focus();
}

/**
 * Open a modal titled `title` showing `content`; returns { dialog, close, show(title, ...content) }
 * so a dialog can move on to its next step (the token shown once). `returnFocus` lists the
 * `data-focus` names to return to on closing, best first; by default, whatever had focus.
 * The dialog leaves the page when it closes, and whatever it showed goes with it.
 */
export function openDialog(title, content, { returnFocus = null } = {}) {
  const opener = document.activeElement;
  const names = returnFocus ?? [opener?.dataset?.focus];
  const titleId = uniqueId("dialog-title");
  const heading = h("h2", { id: titleId }, title);
  const body = h("div", { class: "dialog-body" }, content);
  const dialog = h(
    "dialog",
    { class: "dialog", "aria-labelledby": titleId },
    h(
      "header",
      {},
      heading,
      h(
        "button",
        { type: "button", class: "close", "aria-label": "Close", onclick: () => dialog.close() },
        "×",
      ),
    ),
    body,
  );
  dialog.addEventListener("close", () => {
    dialog.remove();
    if (dialog.dataset.suspended) return; // the session ended: sign-in takes focus
    // "close" comes a task after the dialog closed: when the browser has already put focus back
    // on a control still on the page, the person may have moved on from it; leave it there.
    const active = document.activeElement;
    if (active && active !== document.body && active.isConnected && !active.closest("[hidden]")) {
      return;
    }
    if (focusByName(...names)) return;
    if (opener?.isConnected && !opener.closest("[hidden]")) opener.focus();
    else focusByName("new-key", "main-heading");
  });
  document.body.append(dialog);
  dialog.showModal();
  focusFirstField(body);
  return {
    dialog,
    close: () => dialog.close(),
    show(newTitle, ...newContent) {
      heading.textContent = newTitle;
      body.replaceChildren(...newContent);
      focusFirstField(body);
    },
  };
}
