// Small DOM helpers. Everything the API returns goes into the page as text (textContent),
// never as HTML, so a key or organization name cannot inject markup.

import { ApiError } from "./api.js";

/** h("button", {class: "primary", onclick: fn}, "Save"): an element with attributes and children. */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (value === true) element.setAttribute(name, "");
    else element.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

let nextId = 0;
export const uniqueId = (prefix) => `${prefix}-${++nextId}`;

/**
 * A labelled input with the slot where the API's error about `field` appears. With `maxLength`,
 * a counter says how many characters are typed: over the limit the field is invalid and says
 * by how much (nothing is cut silently, as an input's maxlength would).
 */
export function field({ label, name, errorFor = name, hint = null, input, maxLength = null }) {
  const id = uniqueId(name);
  const hintId = hint ? `${id}-hint` : null;
  const errorId = `${id}-error`;
  const counterId = maxLength ? `${id}-counter` : null;
  input.id = id;
  input.name = name;
  input.setAttribute("aria-describedby", [hintId, counterId, errorId].filter(Boolean).join(" "));
  const counter = maxLength && h("p", { class: "counter", id: counterId });
  if (counter) {
    const count = () => {
      const length = [...input.value].length;
      const over = length - maxLength;
      counter.textContent =
        over > 0 ? `${length}/${maxLength}: ${over} too many` : `${length}/${maxLength}`;
      counter.classList.toggle("over", over > 0);
      input.setCustomValidity(
        over > 0 ? `At most ${maxLength} characters: remove ${over}.` : "",
      );
      if (over > 0) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    };
    input.addEventListener("input", count);
    count();
  }
  return h(
    "div",
    { class: "field" },
    h("label", { for: id }, label),
    input,
    counter,
    hint && h("p", { class: "hint", id: hintId }, hint),
    h("p", { class: "error", id: errorId, "data-error-for": errorFor, role: "alert" }),
  );
}

export function clearErrors(form) {
  for (const slot of form.querySelectorAll(".error")) slot.textContent = "";
  for (const input of form.querySelectorAll("[aria-invalid]")) {
    if (input.validity?.valid !== false) input.removeAttribute("aria-invalid");
  }
}

/**
 * Put an error next to what caused it: each field the API names (InvalidInput lists every bad
 * field), else the form. Focus goes to the first field marked.
 */
export function showError(form, error) {
  const problems = error.problems?.length
    ? error.problems
    : [{ field: error.field, message: error.message }];
  let first = null;
  for (const problem of problems) {
    const slot =
      (problem.field && form.querySelector(`[data-error-for="${CSS.escape(problem.field)}"]`)) ||
      form.querySelector('[data-error-for="form"]');
    slot.textContent = slot.textContent ? `${slot.textContent} ${problem.message}` : problem.message;
    const input = slot.closest(".field")?.querySelector("input, select, textarea");
    if (input) {
      input.setAttribute("aria-invalid", "true");
      first ??= input;
    }
  }
  first?.focus();
}

/** The form-level error slot, placed beside the submit button. */
export const formError = () =>
  h("p", { class: "error form-error", "data-error-for": "form", role: "alert" });

/**
 * Run `action` for a submitted form: the button is disabled while it runs, and a failure is
 * shown next to its cause while every value typed stays where it was.
 */
export function onSubmit(form, action) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const buttons = form.querySelectorAll("button");
    clearErrors(form);
    form.setAttribute("aria-busy", "true");
    for (const button of buttons) button.disabled = true;
    try {
      await action(new FormData(form));
    } catch (error) {
      if (error instanceof ApiError) {
        if (error.code !== "UNAUTHENTICATED" || form.isConnected) showError(form, error);
      } else {
        console.error(error);
        showError(form, new ApiError(`The dashboard failed: ${error.message}`));
      }
    } finally {
      form.removeAttribute("aria-busy");
      for (const button of buttons) button.disabled = false;
    }
  });
  return form;
}

/** A token with a Copy button; "Copied" replaces the button's word, so nothing moves. */
export function tokenBox(token, { label = "token" } = {}) {
  const code = h("code", { class: "token", "data-token": "" }, token);
  const status = h("span", { class: "visually-hidden", role: "status" });
  let reset = null;
  const button = h(
    "button",
    {
      type: "button",
      class: "copy",
      "aria-label": `Copy ${label}`,
      onclick: async () => {
        const copied = await copy(token, code);
        button.textContent = copied ? "Copied" : "Copy";
        status.textContent = copied ? "Copied" : "Selected: press Ctrl+C to copy";
        clearTimeout(reset);
        reset = setTimeout(() => {
          button.textContent = "Copy";
          status.textContent = "";
        }, 2000);
      },
    },
    "Copy",
  );
  return h("span", { class: "token-box" }, code, button, status);
}

async function copy(text, element) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // No clipboard (plain http on another host): select the text so Ctrl+C works.
    const range = document.createRange();
    range.selectNodeContents(element);
    const selection = getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    return false;
  }
}

const dateTime = new Intl.DateTimeFormat(undefined, {
  year: "numeric",
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23",
});
const dateOnly = new Intl.DateTimeFormat(undefined, {
  year: "numeric",
  month: "short",
  day: "numeric",
});
const timeOnly = new Intl.DateTimeFormat(undefined, {
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23",
});

/** A <time> element: the local date (and time below it), the exact instant on hover. */
export function time(iso, { withTime = true, empty = "Never" } = {}) {
  if (!iso) return h("span", { class: "muted" }, empty);
  const date = new Date(iso);
  return h(
    "time",
    { datetime: iso, title: date.toString() },
    h("span", { class: "date" }, dateOnly.format(date)),
    withTime && h("span", { class: "clock" }, timeOnly.format(date)),
  );
}

/** "21:04" today, else "Nov 28, 2026, 21:04": when a rolled key stops working. */
export function until(iso) {
  const date = new Date(iso);
  const today = new Date().toDateString() === date.toDateString();
  return today ? timeOnly.format(date) : dateTime.format(date);
}

/** A duration in words, for the roll confirmation. */
export function duration(seconds) {
  if (seconds === 0) return "no time at all";
  const plural = (n, unit) => (n === 1 ? `1 ${unit}` : `${n} ${unit}s`);
  const hours = seconds / 3600;
  if (Number.isInteger(hours)) return plural(hours, "hour");
  // Under a minute, seconds: a grace of 18 to 29 seconds is not "0 minutes".
  if (seconds < 60) return plural(seconds, "second");
  return plural(Math.round(seconds / 60), "minute");
}
