// The "…" menu of a key, after the WAI-ARIA menu button pattern: Enter, Space or ↓ opens it on
// its first item (↑ on its last), ↑/↓ move and wrap, Home/End jump, Escape closes it and returns
// focus to the button, Tab closes it and moves on. An unavailable item stays reachable
// (aria-disabled) so it can say why.

import { h, uniqueId } from "./dom.js";

let open = null; // { menu, button }

function close({ focusButton = false } = {}) {
  if (!open) return;
  const { menu, button } = open;
  menu.hidden = true;
  button.setAttribute("aria-expanded", "false");
  open = null;
  if (focusButton) button.focus();
}

document.addEventListener("click", (event) => {
  if (open && !open.menu.parentElement.contains(event.target)) close();
});

/** items: [{ label, action, disabled: "why not" | null, danger }]. */
export function menuButton({ label, focusName, items }) {
  const buttonId = uniqueId("menu-button");
  const menuId = uniqueId("menu");
  const entries = items.map(({ label: text, action, disabled = null, danger = false }) =>
    h(
      "button",
      {
        type: "button",
        role: "menuitem",
        tabindex: -1,
        class: danger ? "danger" : null,
        "aria-disabled": disabled ? "true" : null,
        title: disabled,
        onclick: () => {
          if (disabled) return;
          // focus goes back to "…" first, so the dialog that opens returns it there
          close({ focusButton: true });
          action();
        },
      },
      text,
    ),
  );
  const menu = h(
    "div",
    { class: "menu", role: "menu", id: menuId, "aria-labelledby": buttonId, hidden: true },
    entries,
  );
  const show = (index) => {
    close();
    menu.hidden = false;
    button.setAttribute("aria-expanded", "true");
    open = { menu, button };
    entries.at(index)?.focus();
  };
  const button = h(
    "button",
    {
      type: "button",
      id: buttonId,
      class: "more",
      "aria-haspopup": "menu",
      "aria-expanded": "false",
      "aria-controls": menuId,
      "aria-label": label,
      "data-focus": focusName,
      onclick: () => (open?.menu === menu ? close() : show(0)),
      onkeydown: (event) => {
        if (event.key === "ArrowDown" || event.key === "ArrowUp") {
          event.preventDefault();
          show(event.key === "ArrowDown" ? 0 : -1);
        }
      },
    },
    "…",
  );
  menu.addEventListener("keydown", (event) => {
    const index = entries.indexOf(document.activeElement);
    const move = {
      ArrowDown: (index + 1) % entries.length,
      ArrowUp: (index - 1 + entries.length) % entries.length,
      Home: 0,
      End: entries.length - 1,
    }[event.key];
    if (move !== undefined) {
      event.preventDefault();
      entries[move].focus();
    } else if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      close({ focusButton: true });
    } else if (event.key === "Tab") {
      close({ focusButton: true }); // the Tab itself then moves on from the button
    }
  });
  return h("div", { class: "actions" }, button, menu);
}
