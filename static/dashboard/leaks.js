// The red "found in public" banner of a leaked key (on its page, or over the keys table for a
// deleted one): where it was found, who said so and when, and what keyward did about it.

import { h } from "./dom.js";

const REPORTERS = { GITHUB: "GitHub secret scanning", REPORTER: "a leak report" };
const WHEN = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** Only an http(s) address becomes a link; anything else is shown as text. */
function place(url) {
  return /^https?:\/\//i.test(url)
    ? h("a", { href: url, rel: "noopener noreferrer nofollow", target: "_blank", class: "wrap" }, url)
    : h("span", { class: "wrap" }, url);
}

export function leakBanner(leak, type, name = "This key") {
  const fate = leak.revoked
    ? "keyward revoked it at once: make a new key for whatever used it."
    : type === "PUBLIC"
      ? "Public keys are meant to be published, so it was not revoked."
      : "It was NOT revoked (the leak policy is NOTIFY): roll or delete it now.";
  const who = REPORTERS[leak.reporter] ?? leak.reporter;
  const when = h("time", { datetime: leak.foundAt }, WHEN.format(new Date(leak.foundAt)));
  return h(
    "p",
    { class: "leak-banner", role: "alert", "data-leak-url": leak.url ?? "" },
    ...(leak.url
      ? [h("strong", {}, `${name} was found in a public commit: `), place(leak.url)]
      : [h("strong", {}, `${name} was reported as found in public`)]),
    ` (${who}, `,
    when,
    `). ${fate}`,
  );
}
