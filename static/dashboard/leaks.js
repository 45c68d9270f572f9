// The red "found in public" banner of a leaked key (on its page, or over the keys table for a
// deleted one): where it was found, who said so, and what keyward did about it.

import { h, time } from "./dom.js";

const REPORTERS = { GITHUB: "GitHub secret scanning", REPORTER: "a leak report" };

/** Only an http(s) address becomes a link; anything else is shown as text. */
function place(url) {
  if (!url) return "a place the reporter did not name";
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
  return h(
    "p",
    { class: "leak-banner", role: "alert", "data-leak-url": leak.url ?? "" },
    h("strong", {}, `${name} was found in a public commit: `),
    place(leak.url),
    ` (${REPORTERS[leak.reporter] ?? leak.reporter}, `,
    time(leak.foundAt),
    `). ${fate}`,
  );
}
