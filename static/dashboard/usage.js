// A key's detail panel (its verifications per hour over the last 7 days, drawn as inline SVG
// bars) and the banners that say a deleted or rolled key is still being sent.

import { graphql } from "./api.js";
import { h, until } from "./dom.js";
import { leakBanner } from "./leaks.js";

const USAGE = `query Usage($id: ID!, $since: DateTime!) {
  apiKey(id: $id) { id name start status expiresAt rolledAt
    usage(since: $since, bucket: HOUR) { start valid expired total } }
}`;
const REVOKED = `query Revoked($id: ID!, $since: DateTime!) {
  organization(id: $id) {
    revokedKeyUses(first: 20, since: $since) {
      edges { node { keyId name start deletedAt lastSeenAt lastClientAddress count leaks { url source reporter revoked foundAt } } }
    }
  }
}`;

const SVG = "http://www.w3.org/2000/svg";
const HOUR = 3600_000;

function svg(tag, attributes = {}, ...children) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  element.append(...children);
  return element;
}

const ago = (iso) => {
  const hours = Math.round((Date.now() - new Date(iso).getTime()) / HOUR);
  if (hours < 1) return "less than an hour ago";
  if (hours < 48) return hours === 1 ? "1 hour ago" : `${hours} hours ago`;
  return `${Math.round(hours / 24)} days ago`;
};
const times = (n) => (n === 1 ? "once" : `${n} times`);

/** Bars per hour: valid (below) and failed (stacked above), with a text summary for readers. */
export function usageChart(buckets) {
  const width = 672; // 168 hours × 4 px
  const height = 120;
  const peak = Math.max(1, ...buckets.map((b) => b.total));
  const step = width / Math.max(1, buckets.length);
  const bars = [];
  buckets.forEach((bucket, index) => {
    const x = index * step;
    const valid = (bucket.valid / peak) * height;
    const failed = ((bucket.total - bucket.valid) / peak) * height;
    const label = `${new Date(bucket.start).toISOString().slice(0, 13)}:00 UTC: ${bucket.valid} valid, ${bucket.total - bucket.valid} failed`;
    if (valid > 0)
      bars.push(
        svg(
          "rect",
          { x, y: height - valid, width: Math.max(1, step - 1), height: valid, class: "bar-valid" },
          svg("title", {}, label),
        ),
      );
    if (failed > 0)
      bars.push(
        svg(
          "rect",
          {
            x,
            y: height - valid - failed,
            width: Math.max(1, step - 1),
            height: failed,
            class: "bar-failed",
          },
          svg("title", {}, label),
        ),
      );
  });
  const totalValid = buckets.reduce((sum, b) => sum + b.valid, 0);
  const totalFailed = buckets.reduce((sum, b) => sum + b.total - b.valid, 0);
  const summary = `${totalValid} valid and ${totalFailed} failed verifications in the last 7 days; the busiest hour had ${peak === 1 && totalValid + totalFailed === 0 ? 0 : peak}.`;
  return h(
    "figure",
    { class: "usage-chart" },
    svg(
      "svg",
      {
        viewBox: `0 0 ${width} ${height}`,
        role: "img",
        "aria-label": summary,
        preserveAspectRatio: "none",
      },
      svg("line", { x1: 0, y1: height, x2: width, y2: height, class: "axis" }),
      ...bars,
    ),
    h(
      "figcaption",
      {},
      h("span", { class: "legend legend-valid" }, "Valid"),
      h("span", { class: "legend legend-failed" }, "Failed (expired or refused by restrictions)"),
      h("span", { class: "muted" }, summary),
    ),
  );
}

/** The usage section of a key's page: its chart, and a warning when a rolled key whose grace
 * has ended is still being sent. */
export async function usageSection(key) {
  const section = h(
    "section",
    { class: "card key-usage", "aria-labelledby": "usage-heading" },
    h("h2", { id: "usage-heading" }, "Verifications per hour, last 7 days"),
    h("p", { class: "loading" }, "Loading usage…"),
  );
  const since = new Date(Date.now() - 7 * 24 * HOUR).toISOString();
  try {
    const { apiKey } = await graphql(USAGE, { id: key.id, since });
    if (!apiKey) return section;
    const buckets = apiKey.usage;
    const lastHour = buckets.slice(-2).reduce((sum, b) => sum + b.expired, 0);
    const stillSent = apiKey.rolledAt && apiKey.status === "EXPIRED" && lastHour > 0;
    section.lastElementChild.replaceWith(
      ...[
        stillSent &&
          h(
            "p",
            { class: "warning", role: "alert" },
            `“${apiKey.name}” was rolled and its grace period has ended, but it was still sent ${times(lastHour)} in the last hour.`,
          ),
        usageChart(buckets),
        h("p", { class: "hint" }, "Counts arrive within a few seconds."),
      ].filter(Boolean),
    );
  } catch (error) {
    section.lastElementChild.replaceWith(h("p", { class: "error", role: "alert" }, error.message));
  }
  return section;
}

/** Banners over the keys table for deleted keys still being sent in the last hour. */
export async function revokedBanners(organizationId) {
  const since = new Date(Date.now() - HOUR).toISOString();
  try {
    const { organization } = await graphql(REVOKED, { id: organizationId, since });
    const uses = organization?.revokedKeyUses.edges.map((e) => e.node) ?? [];
    return uses.flatMap((use) => [
      // A key revoked because it leaked says where it was found, in red, above its uses.
      ...use.leaks.slice(0, 1).map((leak) => leakBanner(leak, "SECRET", `“${use.name}” (${use.start}…)`)),
      h(
        "p",
        { class: "warning revoked-use", role: "alert", "data-key-id": use.keyId },
        `“${use.name}” (${use.start}…), deleted ${ago(use.deletedAt)}, was used ${times(use.count)} in the last hour`,
        use.lastClientAddress ? ` from ${use.lastClientAddress}` : "",
        `. Whoever sends it is refused; find it and remove it. Last seen ${until(use.lastSeenAt)}.`,
      ),
    ]);
  } catch {
    return []; // the banner is a hint: the keys page works without it
  }
}
