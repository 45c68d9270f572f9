// Modal dialogs on the native <dialog> element: focus is trapped and Escape closes them.

import { h, uniqueId } from "./dom.js";

/**
 * Open a modal titled `title` showing `content`; returns { dialog, show(title, ...content) } so
 * a dialog can move on to its next step (a confirmation, then the token shown once).
 * The dialog leaves the page when it closes, and whatever it showed goes with it.
 */
export function openDialog(title, ...content) {
  const titleId = uniqueId("dialog-title");
  const heading = h("h2", { id: titleId }, title);
  const body = h("div", { class: "dialog-body" }, ...content);
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
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  return {
    dialog,
    close: () => dialog.close(),
    show(newTitle, ...newContent) {
      heading.textContent = newTitle;
      body.replaceChildren(...newContent);
      body.querySelector("button, input")?.focus();
    },
  };
}
